"""The read-only views not exercised elsewhere, and the token's minter restriction."""

from __future__ import annotations

import pytest
from protocol_helpers import PARAMS, Protocol, make_cid

from flchain.chain.cidcodec import cid_to_bytes
from flchain.chain.deploy import token_abi
from flchain.chain.revert_names import RevertName
from flchain.exceptions import ContractRevertError
from flchain.types import Address


def view(p: Protocol, fn: str, *args: object) -> tuple[object, ...]:
    return p.admin._view(fn, *args)


def test_current_round_views(proto: Protocol) -> None:
    proto.register(clients=2, miners=4)
    assert view(proto, "activeClientCount") == (2,)
    assert view(proto, "committee") == ((),)  # no round open yet
    proto.admin.start_training()
    raw = view(proto, "committee")[0]
    members = [proto.w3.to_checksum_address(a) for a in raw]  # type: ignore[attr-defined]
    assert members == list(proto.admin.committee(0)) and len(members) == 3
    for i in range(10, 14):
        assert proto.admin.is_committee_member(0, proto.address(i)) == (proto.address(i) in members)

    # without sampling every active client trains; only the open round answers
    assert proto.as_(2).is_sampled(0) and proto.as_(1).is_sampled(0)
    assert not proto.as_(2).is_sampled(1)
    assert not proto.admin.is_sampled(0)  # not a client


def test_slashed_total_and_attestation_views(proto: Protocol) -> None:
    proto.register(clients=1, miners=3)
    proto.admin.start_training()
    proto.as_(1).submit_update(0, make_cid("only"), 5)  # nobody on the committee votes
    proto.advance(PARAMS.commit_duration + PARAMS.reveal_duration)
    proto.admin.finalize_round(0)
    slash = PARAMS.miner_bond * PARAMS.slash_bps // 10_000
    assert view(proto, "slashedTotal") == (3 * slash,)

    aggregate = make_cid("agg")
    member = proto.committee_clients(0)[0]
    member.certify_aggregate(0, aggregate)  # a (slashed, still seated) member attests
    digest = proto.w3.keccak(cid_to_bytes(aggregate))
    assert view(proto, "attestationOf", 0, member.account) == (digest,)
    assert view(proto, "attestationOf", 0, proto.address(1)) == (bytes(32),)
    assert view(proto, "attestationCount", 0, digest) == (1,)


def test_only_the_protocol_mints(proto: Protocol) -> None:
    token = token_abi()
    data = token.encode_call("mint", proto.address(1), 10**18)
    with pytest.raises(ContractRevertError) as exc:
        proto.transactor.transact(proto.address(0), proto.deployment.token, data)
    assert exc.value.name == RevertName.NotMinter  # not even the deployer
    assert exc.value.error_args == (Address(proto.address(0)),)
    minter = token.decode_result(
        "minter", proto.transactor.call(proto.deployment.token, token.encode_call("minter"))
    )
    assert minter == (proto.deployment.protocol.lower(),)
    abi_names = {e.get("name") for e in token.abi}
    assert not abi_names & {"grantRole", "revokeRole", "DEFAULT_ADMIN_ROLE", "MINTER_ROLE"}


def test_batched_views_equal_one_call_each(proto: Protocol) -> None:
    proto.register(clients=2, miners=3)
    accounts = [proto.address(i) for i in (1, 2, 10, 11, 12, 5)]  # clients, miners, a stranger
    clients, miners = proto.admin.states_of(accounts)
    assert clients == {a: proto.admin.client_state(a) for a in accounts}
    assert miners == {a: proto.admin.miner_state(a) for a in accounts}
    balances, owed = proto.admin.rewards_of(accounts)
    assert balances == {a: proto.admin.token_balance(a) for a in accounts}
    assert owed == {a: proto.admin.claimable(a) for a in accounts}
    assert proto.admin.states_of([]) == ({}, {})
    claim = proto.admin.abi.encode_call("claim")  # as the zero address: nothing owed
    with pytest.raises(ContractRevertError) as failed:  # a failing call raises, decoded
        proto.admin.transactor.call_many([(proto.admin.address, claim)] * 2)
    assert failed.value.name == RevertName.NothingToClaim
