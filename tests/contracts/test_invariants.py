"""Stateful property test: random interleavings of protocol actions keep the invariants.

Hypothesis drives submissions, commits, honest and dishonest reveals, finalizations
and clock moves against a real node. After every step, from the logs and views:

* one submission per client per round, one reveal per miner per round;
* reward tokens are minted only for accepted updates and committee members;
* nothing about a finalized round changes afterwards;
* every rejected action fails with one of the contract's own errors.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from protocol_helpers import Protocol, make_cid

from flchain.chain import iter_logs, rpc
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase
from flchain.exceptions import ContractRevertError

STATS: Counter[str] = Counter()
CLIENT_IDS = (1, 2, 3, 4)
MINER_IDS = (10, 11, 12, 13)
EXPECTED_ERRORS = {
    "NotInPhase",
    "AlreadySubmitted",
    "NotInCommittee",
    "AlreadyCommitted",
    "NotCommitted",
    "AlreadyRevealed",
    "CommitmentMismatch",
    "WrongScoreCount",
    "RoundAlreadyFinalized",
}


def make_machine(p: Protocol) -> type[RuleBasedStateMachine]:
    class ProtocolMachine(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.snapshot = rpc(p.w3, "evm_snapshot", [])
            self.from_block = p.transactor.block_number() + 1
            p.register(clients=len(CLIENT_IDS), miners=len(MINER_IDS))
            p.admin.start_training()
            self.secrets: dict[tuple[int, str], tuple[list[int], bytes]] = {}
            self.frozen: dict[int, Any] = {}
            self.actions = 0
            self.cooperative_round(2**16 - 1)  # every run starts with a round that accepts all

        def teardown(self) -> None:
            if hasattr(self, "snapshot"):
                rpc(p.w3, "evm_revert", [self.snapshot])
                p.transactor.resync_nonces()

        def attempt(self, action: Any) -> bool:
            try:
                action()
            except ContractRevertError as exc:
                assert exc.name in EXPECTED_ERRORS, f"unexpected revert {exc}"
                return False
            self.actions += 1
            return True

        @property
        def round(self) -> int:
            return p.admin.current_round()

        def miner(self, m: int) -> ProtocolClient:
            """Seat ``m`` of the current committee, or a miner outside it."""
            members = p.admin.committee(self.round)
            outside = [p.address(i) for i in MINER_IDS if p.address(i) not in members]
            chosen = (list(members) + outside)[m]
            return p.as_(p.transactor.addresses.index(chosen))

        @rule(c=st.integers(0, len(CLIENT_IDS) - 1), samples=st.integers(1, 1_000))
        def submit(self, c: int, samples: int) -> None:
            r = self.round
            cid = make_cid(f"r{r}c{c}s{samples}")
            self.attempt(lambda: p.as_(CLIENT_IDS[c]).submit_update(r, cid, samples))

        @rule(m=st.integers(0, len(MINER_IDS) - 1), seed=st.integers(0, 2**16))
        def commit(self, m: int, seed: int) -> None:
            r, miner = self.round, self.miner(m)
            n = p.admin.round_info(r).num_submissions
            scores = [9_000 if (seed >> i) & 1 else 1_000 for i in range(n)]
            salt = hashlib.sha256(f"{r}:{m}:{seed}".encode()).digest()  # reproducible draws
            if self.attempt(lambda: miner.commit_votes(r, miner.vote_commitment(r, scores, salt))):
                self.secrets[(r, miner.account)] = (scores, salt)

        @rule(m=st.integers(0, len(MINER_IDS) - 1), honest=st.booleans())
        def reveal(self, m: int, honest: bool) -> None:
            r, miner = self.round, self.miner(m)
            n = p.admin.round_info(r).num_submissions
            scores, salt = self.secrets.get((r, miner.account), ([0] * n, bytes(32)))
            if not honest:
                salt = hashlib.sha256(salt).digest()
            self.attempt(lambda: miner.reveal_votes(r, scores, salt))

        @rule()
        def finalize(self) -> None:
            r = self.round
            if self.attempt(lambda: p.admin.finalize_round(r)):
                self.frozen[r] = _without_certified(p.admin.round_info(r))
                STATS["finalized"] += 1
                STATS["accepted"] += p.admin.round_info(r).num_accepted

        @rule(seed=st.integers(0, 2**16))
        def cooperative_round(self, seed: int) -> None:
            """Everybody still able to act does so honestly, then the round is finalized."""
            for c in range(len(CLIENT_IDS)):
                self.submit(c, 100 + c)
            r = self.round
            for m in range(len(p.admin.committee(r))):
                self.commit(m, seed)
            for m in range(len(p.admin.committee(r))):
                self.reveal(m, True)
            if p.admin.phase(r) is not Phase.CLOSED:
                p.advance(3_000)
            self.finalize()

        @rule(seconds=st.sampled_from([1, 600, 1_000, 3_000]))
        def wait(self, seconds: int) -> None:
            p.advance(seconds)

        @invariant()
        def logs_are_consistent(self) -> None:
            if not hasattr(self, "snapshot"):
                return
            log: dict[str, list[dict[str, Any]]] = defaultdict(list)
            abi = p.admin.abi.abi
            for e in iter_logs(p.w3, p.deployment.protocol, abi, None, self.from_block):
                log[e.name].append(e.args)
            submissions = Counter((e["round"], e["client"]) for e in log["UpdateSubmitted"])
            assert all(count == 1 for count in submissions.values())
            reveals = Counter((e["round"], e["miner"]) for e in log["VotesRevealed"])
            assert all(count == 1 for count in reveals.values())

            clients = {(e["round"], e["index"]): e["client"] for e in log["UpdateSubmitted"]}
            accepted = {
                (e["round"], clients[(e["round"], e["firstIndex"] + j)])
                for e in log["UpdatesScored"]
                for j in range(e["count"])
                if (e["acceptedBits"] >> j) & 1
            }
            committees = {(e["round"], m) for e in log["CommitteeDrawn"] for m in e["members"]}
            for e in log["Rewarded"]:
                key = (e["round"], e["account"])
                assert key in accepted or key in committees, f"unearned reward {e}"
            for r, info in self.frozen.items():
                assert _without_certified(p.admin.round_info(r)) == info
                assert p.admin.phase(r) is Phase.FINALIZED

    return ProtocolMachine


def _without_certified(info: Any) -> tuple[Any, ...]:
    return (
        info.phase,
        (info.opened_at, info.submit_end, info.commit_end, info.reveal_end),
        (info.num_submissions, info.num_commits, info.num_reveals, info.num_accepted),
    )


@pytest.mark.slow
def test_random_protocol_runs_keep_invariants(proto: Protocol) -> None:
    machine = make_machine(proto)
    machine.TestCase.settings = settings(
        max_examples=6,
        stateful_step_count=30,
        derandomize=True,  # the same runs every time: a fixed seed, as the forge suite has
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    STATS.clear()
    run_state_machine_as_test(machine, settings=machine.TestCase.settings)
    assert STATS["finalized"] > 0 and STATS["accepted"] > 0, f"runs too idle to test: {STATS}"
