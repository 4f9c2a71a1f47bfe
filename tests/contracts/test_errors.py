"""Every custom error of FLProtocol, provoked on a real node and asserted by name and arguments.

Bad input goes to the contract as raw calldata, past the Python client's own checks.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from protocol_helpers import CLIENTS, PARAMS, Protocol, make_cid
from web3.types import RPCEndpoint

from flchain.chain.cidcodec import cid_to_bytes
from flchain.chain.deploy import protocol_abi
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import PREPARE_PAGE, Phase
from flchain.chain.revert_names import RevertName
from flchain.chain.sampling import sampled_indices
from flchain.exceptions import ContractRevertError


def raw(p: Protocol, who: int, fn: str, *args: Any, value: int = 0) -> Any:
    """Send ``fn(*args)`` from account ``who`` without client-side validation."""
    data = p.admin.abi.encode_call(fn, *args)
    return p.transactor.transact(p.address(who), p.deployment.protocol, data, value=value)


def raw_to(p: Protocol, who: int, contract: str, fn: str, *args: Any) -> Any:
    """Send ``fn(*args)`` to another protocol ``contract`` from account ``who``."""
    data = p.admin.abi.encode_call(fn, *args)
    return p.transactor.transact(p.address(who), contract, data)


def reverts(name: str, *args: Any) -> Any:
    """Context manager: the block raises ContractRevertError ``name`` (with ``args`` if given)."""

    class _Check:
        def __enter__(self) -> None:
            return None

        def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
            assert isinstance(exc, ContractRevertError), f"expected {name}, got {exc!r}"
            assert exc.name == name, f"expected {name}, got {exc.name}{exc.error_args}"
            if args:
                assert exc.error_args == args, f"{name} args {exc.error_args} != {args}"
            return True

    return _Check()


def started(p: Protocol, clients: int = 3, miners: int = 3) -> None:
    p.register(clients=clients, miners=miners)
    p.admin.start_training()


def to_commit_phase(p: Protocol) -> list[Any]:
    for i in (1, 2, 3):
        p.as_(i).submit_update(0, make_cid(f"u{i}"), 10)
    assert p.admin.phase(0) is Phase.COMMIT
    return p.committee_clients(0)


def outsider(p: Protocol, members: list[Any]) -> int:
    inside = {m.account for m in members}
    return next(i for i in range(10, 16) if p.address(i) not in inside)


# --- deployment and registration ------------------------------------------------


def test_invalid_parameter_rejected_by_constructor(proto: Protocol) -> None:
    from flchain.chain.deploy import linked_protocol

    code = linked_protocol(proto.transactor, proto.address(0))
    bad = list(PARAMS.to_abi())
    bad[4] = bad[3] + 1  # quorum > committee size
    data = protocol_abi().encode_deploy(code, tuple(bad), "T", "T")
    with reverts("InvalidParameter", "quorum"):
        proto.transactor.transact(proto.address(0), None, data)
    bad = list(PARAMS.to_abi())
    bad[2] = 0  # rounds
    data = protocol_abi().encode_deploy(code, tuple(bad), "T", "T")
    with reverts(RevertName.InvalidParameter, "rounds"):
        proto.transactor.transact(proto.address(0), None, data)
    (max_task_reward,) = proto.admin._view("MAX_TASK_REWARD")
    for field, name in ((9, "clientRewardPerRound"), (10, "minerRewardPerRound")):
        bad = list(PARAMS.to_abi())
        bad[field] = max_task_reward // PARAMS.rounds + 1  # the whole task's reward overflows
        data = protocol_abi().encode_deploy(code, tuple(bad), "T", "T")
        with reverts(RevertName.InvalidParameter, name):
            proto.transactor.transact(proto.address(0), None, data)


def test_slots_are_prepared_before_training(proto: Protocol) -> None:
    from flchain.chain.deploy import linked_protocol, prepare_slots

    code = linked_protocol(proto.transactor, proto.address(0))
    params = dataclasses.replace(PARAMS, max_updates_per_round=PREPARE_PAGE + 1)
    data = protocol_abi().encode_deploy(code, params.to_abi(), "T", "T")
    receipt = proto.transactor.transact(proto.address(0), None, data)
    fresh = ProtocolClient(proto.transactor, receipt["contractAddress"], proto.address(0))
    with reverts(RevertName.SlotsNotPrepared, 0, PREPARE_PAGE + 1):
        fresh.start_training()
    fresh._send("prepareSlots")
    with reverts(RevertName.SlotsNotPrepared, PREPARE_PAGE, PREPARE_PAGE + 1):
        fresh.start_training()
    with reverts("AccessControlUnauthorizedAccount"):
        raw_to(proto, 1, fresh.address, "prepareSlots")
    assert prepare_slots(proto.transactor, proto.address(0), fresh.address) == 1
    with reverts(RevertName.SlotsAlreadyPrepared, PREPARE_PAGE + 1):
        fresh._send("prepareSlots")
    fresh.start_training()
    with reverts(RevertName.TrainingAlreadyStarted):
        fresh._send("prepareSlots")


def test_registration_errors(proto: Protocol) -> None:
    with reverts("InsufficientBond", PARAMS.client_bond - 1, PARAMS.client_bond):
        proto.as_(1).register_client(PARAMS.client_bond - 1)
    with reverts("InsufficientBond", 0, PARAMS.miner_bond):
        proto.as_(10).register_miner(0)
    proto.as_(1).register_client()
    with reverts("AlreadyRegistered", proto.address(1)):
        proto.as_(1).register_client()
    proto.as_(10).register_miner()
    with reverts("AlreadyRegistered", proto.address(10)):
        proto.as_(10).register_miner()
    proto.as_(1).leave()
    with reverts("PendingWithdrawal", proto.address(1)):
        proto.as_(1).register_client()
    with reverts("NotRegistered", proto.address(2)):
        proto.as_(2).leave()
    with reverts("NothingToWithdraw", proto.address(2)):
        proto.as_(2).withdraw()


def test_bond_locked_until_round_finalized(proto: Protocol) -> None:
    started(proto)
    proto.as_(3).leave()
    with reverts("BondLocked", proto.address(3), 0):
        proto.as_(3).withdraw()


def test_withdraw_while_registered_names_it(proto: Protocol) -> None:
    started(proto)
    with reverts(RevertName.StillRegistered, proto.address(1)):
        proto.as_(1).withdraw()
    with reverts(RevertName.StillRegistered, proto.address(10)):
        proto.as_(10).withdraw()
    proto.as_(10).leave()  # a left miner waits for the round it left in, then gets its bond
    with reverts(RevertName.BondLocked, proto.address(10), 0):
        proto.as_(10).withdraw()


def test_only_admin_starts_training_once(proto: Protocol) -> None:
    with reverts("AccessControlUnauthorizedAccount"):
        proto.as_(1).start_training()
    proto.admin.start_training()
    with reverts("TrainingAlreadyStarted"):
        proto.admin.start_training()


# --- submit ---------------------------------------------------------------------


def test_submit_errors(proto: Protocol) -> None:
    good = cid_to_bytes(make_cid("x"))
    proto.register(clients=3, miners=3)
    with reverts("NotInPhase", 0, int(Phase.SUBMIT), int(Phase.NOT_OPENED)):
        raw(proto, 1, "submitUpdate", 0, good, 5)
    proto.admin.start_training()
    with reverts("NotClient", proto.address(9)):
        raw(proto, 9, "submitUpdate", 0, good, 5)
    with reverts("InvalidCid", b""):
        raw(proto, 1, "submitUpdate", 0, b"", 5)
    with reverts("InvalidCid"):
        raw(proto, 1, "submitUpdate", 0, b"\x01\x71\x12\x20" + good[4:], 5)  # dag-cbor
    with reverts("InvalidCid"):
        raw(proto, 1, "submitUpdate", 0, b"\x01\x55\x12\x20" + bytes(32), 5)  # zero digest
    with reverts("ZeroSamples"):
        raw(proto, 1, "submitUpdate", 0, good, 0)
    with reverts("TooManySamples", 2**32, 2**32 - 1):
        raw(proto, 1, "submitUpdate", 0, good, 2**32)
    with reverts("NotInPhase", 1, int(Phase.SUBMIT), int(Phase.NOT_OPENED)):
        raw(proto, 1, "submitUpdate", 1, good, 5)
    raw(proto, 1, "submitUpdate", 0, good, 5)
    with reverts("AlreadySubmitted", 0, proto.address(1)):
        raw(proto, 1, "submitUpdate", 0, good, 5)


def test_no_outsider_takes_an_active_clients_slot(deploy_with: Any) -> None:
    p: Protocol = deploy_with(max_updates_per_round=2)
    p.register(clients=2, miners=3)
    with reverts(RevertName.ClientSlotsFull, 2):
        p.as_(3).register_client()
    p.admin.start_training()
    p.as_(1).submit_update(0, make_cid("a"), 1)
    p.as_(1).leave()  # submitted, then left: its slot in round 0 stays taken
    assert p.admin.client_state(p.address(1)).status == 2
    with reverts(RevertName.ClientSlotsFull, 2):
        p.as_(3).register_client()  # one active client, but both of round 0's slots are spoken for
    p.as_(2).submit_update(0, make_cid("b"), 1)  # the honest client still has its slot
    info = p.admin.round_info(0)
    assert (info.num_submissions, info.phase) == (2, Phase.COMMIT)
    p.as_(3).register_client()  # the submit phase is over: next round has room
    assert p.admin.client_state(p.address(3)).status == 1


def test_only_the_clients_drawn_submit(deploy_with: Any) -> None:
    p: Protocol = deploy_with(max_updates_per_round=2, clients_per_round=2)
    p.register(clients=5, miners=3)  # more clients than update slots: the draw needs one each
    p.admin.start_training()
    clients = list(CLIENTS)[:5]
    drawn = [i for i in clients if p.as_(i).is_sampled(0)]
    (opened,) = p.admin.events("RoundOpened", 0)
    assert (opened.args["population"], opened.args["expectedSubmissions"]) == (5, 2)
    seed = bytes(p.admin.events("CommitteeDrawn", 0)[0].args["seed"])
    assert drawn == [clients[j] for j in sampled_indices(seed, 5, 2)]  # indices in joining order
    left_out = next(i for i in clients if i not in drawn)
    with reverts(RevertName.NotSampled, 0, p.address(left_out)):
        p.as_(left_out).submit_update(0, make_cid("not drawn"), 1)
    for i in drawn:
        p.as_(i).submit_update(0, make_cid(f"drawn {i}"), 1)
    assert p.admin.phase(0) is Phase.COMMIT  # closed early: both drawn clients submitted


def population_slot(p: Protocol) -> int:
    """The storage slot of ``FLRegistry._population``: the only one of the first 64 that counts
    two clients after one of them left (``_activeClients`` counts one)."""
    p.as_(3).register_client()
    p.as_(4).register_client()
    p.as_(3).leave()
    words = [p.w3.eth.get_storage_at(p.deployment.protocol, s) for s in range(64)]
    (slot,) = [s for s, w in enumerate(words) if int.from_bytes(w, "big") == 2]
    return slot


def test_too_many_clients_ever(deploy_with: Any) -> None:
    p: Protocol = deploy_with(max_updates_per_round=2, clients_per_round=2)
    slot = population_slot(p)
    p.w3.provider.make_request(  # type: ignore[attr-defined]
        RPCEndpoint("anvil_setStorageAt"),
        [p.deployment.protocol, hex(slot), "0x" + (2**16 - 2).to_bytes(32, "big").hex()],
    )
    p.as_(1).register_client()  # index 65534, the last one
    with reverts(RevertName.TooManyClients, 2**16 - 1):
        p.as_(2).register_client()


# --- commit and reveal -------------------------------------------------------------


def test_commit_errors(proto: Protocol) -> None:
    started(proto, miners=4)
    with reverts("NotInPhase", 0, int(Phase.COMMIT), int(Phase.SUBMIT)):
        proto.as_(10).commit_votes(0, os.urandom(32))
    committee = to_commit_phase(proto)
    stranger = outsider(proto, committee)  # a registered miner left out of the draw
    with reverts("NotInCommittee", 0, proto.address(1)):
        proto.as_(1).commit_votes(0, os.urandom(32))
    with reverts("NotInCommittee", 0, proto.address(stranger)):
        proto.as_(stranger).commit_votes(0, os.urandom(32))
    with reverts("EmptyCommitment"):
        committee[0].commit_votes(0, bytes(32))
    committee[0].commit_votes(0, os.urandom(32))
    with reverts("AlreadyCommitted", 0, committee[0].account):
        committee[0].commit_votes(0, os.urandom(32))


def test_reveal_errors(proto: Protocol) -> None:
    started(proto)
    committee = to_commit_phase(proto)
    scores = [9_000, 9_000, 100]
    salt = os.urandom(32)
    a, b, c = committee
    with reverts("NotInPhase", 0, int(Phase.REVEAL), int(Phase.COMMIT)):
        a.reveal_votes(0, scores, salt)
    a.commit_votes(0, a.vote_commitment(0, scores, salt))
    # a commitment to an out-of-range score, hashed as the contract does (the helper refuses to)
    layout = ["uint256", "address", "uint256", "address", "uint16[]", "bytes32"]
    values = [b.transactor.chain_id, b.address, 0, b.account, [10_001, 0, 0], salt]
    b.commit_votes(0, keccak(encode(layout, values)))
    proto.advance(PARAMS.commit_duration)  # c never commits
    assert proto.admin.phase(0) is Phase.REVEAL
    with reverts("NotCommitted", 0, c.account):
        c.reveal_votes(0, scores, salt)
    with reverts("WrongScoreCount", 2, 3):
        a.reveal_votes(0, scores[:2], salt)
    with reverts("CommitmentMismatch", 0, a.account):
        a.reveal_votes(0, [9_000, 9_000, 101], salt)
    with reverts("CommitmentMismatch", 0, a.account):
        a.reveal_votes(0, scores, os.urandom(32))
    b_index = proto.transactor.addresses.index(b.account)
    with reverts("ScoreOutOfRange", 0, 10_001):
        raw(proto, b_index, "revealVotes", 0, [10_001, 0, 0], salt)
    a.reveal_votes(0, scores, salt)
    assert proto.admin.phase(0) is Phase.REVEAL  # b committed and has not revealed yet
    with reverts("AlreadyRevealed", 0, a.account):
        a.reveal_votes(0, scores, salt)


def test_commitment_does_not_replay_across_rounds_or_miners(proto: Protocol) -> None:
    started(proto)
    committee = to_commit_phase(proto)
    a, b = committee[0], committee[1]
    scores, salt = [9_000, 9_000, 9_000], os.urandom(32)
    # b copies a's commitment: it binds a's address, so b's reveal cannot match it
    commitment = a.vote_commitment(0, scores, salt)
    a.commit_votes(0, commitment)
    b.commit_votes(0, commitment)
    committee[2].commit_votes(0, os.urandom(32))
    a.reveal_votes(0, scores, salt)
    with reverts("CommitmentMismatch", 0, b.account):
        b.reveal_votes(0, scores, salt)
    assert a.vote_commitment(1, scores, salt) != commitment


# --- finalize and certify ------------------------------------------------------------


def test_finalize_errors(proto: Protocol) -> None:
    with reverts("NotInPhase", 0, int(Phase.CLOSED), int(Phase.NOT_OPENED)):
        proto.admin.finalize_round(0)
    started(proto)
    with reverts("NotInPhase", 0, int(Phase.CLOSED), int(Phase.SUBMIT)):
        proto.admin.finalize_round(0)
    proto.run_round(0, lambda n: [9_000] * n)
    with reverts("RoundAlreadyFinalized", 0):
        proto.admin.finalize_round(0)


def test_claim_errors(proto: Protocol) -> None:
    started(proto)
    with reverts(RevertName.NothingToClaim, proto.address(1)):
        proto.as_(1).claim()  # nothing credited before a round is finalized
    proto.run_round(0, lambda n: [9_000] * n)
    proto.as_(1).claim()
    with reverts(RevertName.NothingToClaim, proto.address(1)):
        proto.as_(1).claim()  # the whole credit went in one claim


def test_certify_errors(proto: Protocol) -> None:
    started(proto)
    agg = make_cid("agg")
    with reverts("RoundNotFinalized", 0):
        proto.as_(1).certify_aggregate(0, agg)
    committee = proto.run_round(0, lambda n: [9_000] * n)
    with reverts("InvalidCid"):
        raw(proto, 1, "certifyAggregate", 0, b"\x12\x20")
    with reverts("NotAttester", 0, proto.address(9)):
        proto.as_(9).certify_aggregate(0, agg)
    with reverts(RevertName.NotAttester, 0, proto.address(1)):
        proto.as_(1).certify_aggregate(0, agg)  # a registered client attests no more
    stranger = outsider(proto, committee)
    with reverts(RevertName.NotAttester, 0, proto.address(stranger)):
        proto.as_(stranger).certify_aggregate(0, agg)  # nor does a miner off the committee
    committee[0].certify_aggregate(0, agg)
    with reverts("AlreadyAttested", 0, committee[0].account):
        committee[0].certify_aggregate(0, agg)
    proto.run_round(1, lambda n: [9_000] * n)
    proto.run_round(2, lambda n: [9_000] * n)
    with reverts("CertificationClosed", 0, 3):
        committee[1].certify_aggregate(0, agg)
