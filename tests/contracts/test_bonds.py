"""Bonds: locking, leaving, pull withdrawals (incl. refusing and re-entering receivers), limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from protocol_helpers import PARAMS, Protocol

from flchain.chain import TxRequest, account_from_key, iter_logs
from flchain.chain.abicodec import ContractABI
from flchain.chain.build import compile_sources
from flchain.chain.protocol_types import MemberStatus
from flchain.exceptions import ContractRevertError

MEMBER_SOURCE = Path(__file__).parent / "solidity" / "Member.sol"


@pytest.fixture(scope="session")
def member_artifact() -> tuple[ContractABI, str]:
    """ABI and bytecode of the test-only Member contract (compiled with the pinned solc)."""
    output, _ = compile_sources({"Member.sol": MEMBER_SOURCE.read_text()})
    compiled = output["contracts"]["Member.sol"]["Member"]
    return ContractABI(compiled["abi"]), compiled["evm"]["bytecode"]["object"]


def balance(p: Protocol, address: str) -> int:
    return int(p.w3.eth.get_balance(address))  # type: ignore[arg-type]


def test_leave_then_withdraw_after_the_round_is_finalized(proto: Protocol) -> None:
    proto.register(clients=3, miners=3)
    proto.admin.start_training()
    leaver = proto.as_(3)
    leaver.leave()
    state = leaver.client_state()
    assert state.status is MemberStatus.LEFT and state.bond == PARAMS.client_bond
    assert proto.admin.round_info(0).expected_submissions == 2  # nobody waits for a leaver
    proto.run_round(0, lambda n: [9_000] * n, clients=2)
    before = balance(proto, leaver.account)
    receipt = leaver.withdraw()
    fee = int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
    assert balance(proto, leaver.account) == before + PARAMS.client_bond - fee
    assert leaver.client_state().status is MemberStatus.NONE
    events = list(
        iter_logs(proto.w3, proto.deployment.protocol, leaver.abi.abi, ["BondWithdrawn"],
                  proto.deployment.block)
    )  # fmt: skip
    assert [(e.args["account"], e.args["amount"]) for e in events] == [
        (leaver.account, PARAMS.client_bond)
    ]
    # re-registering keeps the reputation earned before
    leaver.register_client()
    assert leaver.client_state().reputation == 100
    assert proto.admin.round_info(1).expected_submissions == 3  # and a newcomer is waited for


def test_miner_leaves_and_is_not_drawn_again(proto: Protocol) -> None:
    proto.register(clients=2, miners=4)
    proto.as_(13).leave()
    assert proto.address(13) not in proto.admin.miners()
    proto.admin.start_training()
    assert proto.address(13) not in proto.admin.committee(0)
    proto.as_(13).withdraw()  # left before round 0 opened: nothing to wait for
    assert proto.as_(13).miner_state().bond == 0


def test_withdraw_to_a_refusing_or_reentering_contract_fails_cleanly(
    proto: Protocol, member_artifact: tuple[ContractABI, str]
) -> None:
    abi, bytecode = member_artifact
    admin = proto.address(0)
    tx = proto.transactor
    deployed = tx.transact(admin, None, abi.encode_deploy(bytecode, proto.deployment.protocol))
    member = deployed["contractAddress"]
    tx.transact(admin, member, abi.encode_call("join"), value=PARAMS.client_bond)
    tx.transact(admin, member, abi.encode_call("quit"))
    for mode in (1, 2):
        tx.transact(admin, member, abi.encode_call("setMode", mode))
        with pytest.raises(ContractRevertError) as exc:
            tx.transact(admin, member, abi.encode_call("pull"), gas=300_000)
        assert exc.value.name == "WithdrawFailed"
        assert exc.value.error_args == (member, PARAMS.client_bond)
    tx.transact(admin, member, abi.encode_call("setMode", 0))
    tx.transact(admin, member, abi.encode_call("pull"))
    assert balance(proto, member) == PARAMS.client_bond


def test_too_many_miners(proto: Protocol) -> None:
    tx = proto.transactor
    limit = 128
    extra = [tx.add_account(account_from_key(os.urandom(32))) for _ in range(limit + 1)]
    fund = PARAMS.miner_bond + 10**17
    tx.transact_many([TxRequest(proto.address(0), a, b"", fund) for a in extra])
    register = proto.admin.abi.encode_call("registerMiner")
    tx.transact_many(
        [
            TxRequest(a, proto.deployment.protocol, register, PARAMS.miner_bond)
            for a in extra[:limit]
        ]
    )
    assert len(proto.admin.miners()) == limit
    with pytest.raises(ContractRevertError) as exc:
        tx.transact(extra[-1], proto.deployment.protocol, register, value=PARAMS.miner_bond)
    assert (exc.value.name, exc.value.error_args) == ("TooManyMiners", (limit,))
    # the committee draw over the largest miner set still fits in a block
    proto.register(clients=1, miners=0)
    receipt = proto.admin.start_training()
    assert len(proto.admin.committee(0)) == PARAMS.committee_size
    assert int(receipt["gasUsed"]) < 2_000_000
