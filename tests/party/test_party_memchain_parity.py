"""The in-memory chain and the real contract (on Anvil) answer one script of calls alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from party_world import address

from flchain.chain.node import NodeProcess
from flchain.exceptions import ConfigError, ContractRevertError
from flchain.party.memchain import MemChain
from flchain.party.party import TestnetInfo, join_task
from flchain.party.port import ChainPort
from flchain.party.roundlog import EventLog
from flchain.run.setup import Phases, create_task, start_training
from flchain.storage.local import LocalStore
from flchain.task.accounts import client_account, miner_account
from flchain.task.spec import TaskSpec

SALT = b"\x05" * 32
SPEC = TaskSpec(clients=2, miners=3, rounds=1)


def _script(
    clients: list[ChainPort], miners: list[ChainPort], start: Callable[[], None], cid: str
) -> list[str]:
    """Every step's outcome: ``ok``, the custom error's name, or ``ConfigError``."""
    (a, b), (m0, m1, m2) = clients, miners
    scores = [9000, 9000]
    steps: list[Callable[[], object]] = [
        a.register_client,
        b.register_client,
        *(m.register_miner for m in miners),
        a.register_client,  # AlreadyRegistered
        lambda: a.submit_update(0, cid, 10),  # NotInPhase: not opened
        start,
        a.claim,  # NothingToClaim: nothing credited yet
        lambda: m0.submit_update(0, cid, 10),  # NotClient
        lambda: a.submit_update(0, cid, 10),
        lambda: a.submit_update(0, cid, 10),  # AlreadySubmitted
        lambda: b.submit_update(0, cid, 0),  # ConfigError: refused before sending
        lambda: m0.commit_votes(0, m0.vote_commitment(0, scores, SALT)),  # NotInPhase
        lambda: b.submit_update(0, cid, 20),
        lambda: m0.commit_votes(0, bytes(32)),  # EmptyCommitment
        lambda: m0.finalize_round(0),  # NotInPhase
        *(lambda m=m: m.commit_votes(0, m.vote_commitment(0, scores, SALT)) for m in miners),
        lambda: m0.commit_votes(0, m0.vote_commitment(0, scores, SALT)),  # NotInPhase: revealing
        lambda: m0.reveal_votes(0, [9000], SALT),  # WrongScoreCount
        lambda: m0.reveal_votes(0, [9000, 1], SALT),  # CommitmentMismatch
        *(lambda m=m: m.reveal_votes(0, scores, SALT) for m in miners),
        lambda: m1.reveal_votes(0, scores, SALT),  # NotInPhase: closed
        lambda: m2.finalize_round(0),
        lambda: m1.finalize_round(0),  # RoundAlreadyFinalized
        lambda: m0.certify_aggregate(0, cid),
        lambda: m0.certify_aggregate(0, cid),  # AlreadyAttested
        lambda: m1.certify_aggregate(0, cid),
        a.claim,
        a.claim,  # NothingToClaim: claimed whole
        m0.claim,
    ]
    outcomes = []
    for step in steps:
        try:
            step()
            outcomes.append("ok")
        except ContractRevertError as exc:
            outcomes.append(exc.name)
        except ConfigError:
            outcomes.append("ConfigError")
    accepted = [s.index for s in a.accepted_updates(0)]
    outcomes.append(f"accepted {accepted}, certified {a.certified_aggregate(0) == cid}")
    outcomes.append(f"claimable {[p.claimable() for p in (a, b, m0, m1, m2)]}")
    return outcomes


@pytest.mark.usefixtures("chain_snapshot")
def test_the_memory_chain_refuses_what_the_contract_refuses(
    anvil: NodeProcess, tmp_path: Path
) -> None:
    info = TestnetInfo(anvil.rpc_url, anvil.chain_id, anvil.mnemonic, None, 0, anvil.accounts)
    store = LocalStore(tmp_path / "store")
    task = create_task(info, store, SPEC, Phases(300, 300, 300))
    log = EventLog(None, "parity", 0)

    def seat(account: int) -> ChainPort:
        return join_task(info, task.protocol, account, store, log).protocol

    real = _script(
        [seat(client_account(i)) for i in range(2)],
        [seat(miner_account(j)) for j in range(3)],
        lambda: start_training(info, task),
        task.params.initial_model_cid,
    )
    memory = MemChain(task.params)
    fake = _script(
        [memory.port(address("client", i)) for i in range(2)],
        [memory.port(address("miner", j)) for j in range(3)],
        memory.start_training,
        task.params.initial_model_cid,
    )
    assert fake == real
    assert [o for o in real[:-2] if o != "ok"] == [
        "AlreadyRegistered",
        "NotInPhase",
        "NothingToClaim",
        "NotClient",
        "AlreadySubmitted",
        "ConfigError",
        "NotInPhase",
        "EmptyCommitment",
        "NotInPhase",
        "NotInPhase",
        "WrongScoreCount",
        "CommitmentMismatch",
        "NotInPhase",
        "RoundAlreadyFinalized",
        "AlreadyAttested",
        "NothingToClaim",
    ]
    assert real.count("ok") == 19 and real[-2] == "accepted [0, 1], certified True"
    p = task.params  # m0 claimed; both updates accepted, both agreed on by all three members
    owed = [0, p.client_reward_per_round // 2, 0, *[p.miner_reward_per_round * 2 // 6] * 2]
    assert real[-1] == f"claimable {owed}"
