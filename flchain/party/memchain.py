"""An in-memory task contract with a manual clock, for unit tests of the roles' logic.

    chain = MemChain(params)
    client, miner = chain.port(address_a), chain.port(address_b)   # each a ChainPort
    client.register_client(); miner.register_miner(); chain.start_training()
    chain.advance(params.submit_duration)                            # time moves on request

It keeps the rules of ``contracts/FLProtocol.sol``, ``FLRegistry.sol`` and
``FLCommittee.sol`` that a party meets: registration once, one submission per
client per round in Submit, committee-only commit and reveal with the commitment
checked, phases that end by time or early once everybody expected has acted, the
lower median of revealed scores against the threshold with a quorum of reveals,
finalization once Closed, rewards credited at finalization (the auditor's mirror of
the contract's rules, :mod:`flchain.audit.checks`) and claimed whole, and
certification by a quorum of the round's committee, and, with
``clients_per_round``, the contract's draw of the clients who train
(:mod:`flchain.chain.sampling`, from a per-round seed of its own). Each refusal raises the
:class:`ContractRevertError` the contract would. Bonds, reputation and slashing
are left out, and the committee is the miners by address, rotated by the round
(the contract draws by reputation).
Every call holds one lock, so parties may run in threads.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flchain.audit.checks import client_rewards, decide_updates, miner_agreement, miner_reward
from flchain.chain.cidcodec import cid_to_bytes
from flchain.chain.protocol import vote_commitment
from flchain.chain.protocol_types import (
    MemberStatus,
    Phase,
    RoundInfo,
    Submission,
    TaskParams,
    TxResult,
)
from flchain.chain.revert_names import RevertName
from flchain.chain.sampling import is_sampled
from flchain.exceptions import ConfigError, ContractRevertError, FLchainError
from flchain.party.port import ChainPort
from flchain.types import MAX_SCORE, Address, CIDStr

TASK = Address("0x" + "f1" * 20)
START_TIME = 1_700_000_000
MAX_SAMPLES = 2**32 - 1
ACTIVE = MemberStatus.ACTIVE
GAS = 50_000
"""The gas every write reports (the in-memory chain does not meter)."""


@dataclass
class _Round:
    opened_at: int
    expected: int
    committee: tuple[Address, ...]
    population: int = 0
    seed: bytes = bytes(32)
    submit_closed: int = 0
    commit_closed: int = 0
    reveal_closed: int = 0
    submissions: list[Submission] = field(default_factory=list)
    commitments: dict[Address, bytes] = field(default_factory=dict)
    reveals: dict[Address, list[int]] = field(default_factory=dict)
    accepted: list[int] | None = None
    attestations: dict[Address, CIDStr] = field(default_factory=dict)
    counts: dict[CIDStr, int] = field(default_factory=dict)
    certified: CIDStr | None = None


class MemChain:
    """One task's contract state, in memory; ``now`` moves only by :meth:`advance`."""

    def __init__(self, params: TaskParams, *, chain_id: int = 31337) -> None:
        self.params = params
        self.chain_id = chain_id
        self.now = START_TIME
        self.block = 1
        self.empty_blocks = 0
        self.clients: dict[Address, MemberStatus] = {}
        self.client_index: dict[Address, int] = {}
        self.population = 0  # client registrations so far
        self.miners: list[Address] = []
        self.rounds: dict[int, _Round] = {}
        self.owed: dict[Address, int] = {}
        self.minted: dict[Address, int] = {}
        self.current = 0
        self.lock = threading.RLock()

    # --- the test's controls -------------------------------------------------

    def port(self, account: str) -> ChainPort:
        """The :class:`ChainPort` of ``account``."""
        from flchain.party.memport import MemPort

        return MemPort(self, Address(account))

    def advance(self, seconds: int) -> None:
        """Move the clock on (the next call sees the new time)."""
        with self.lock:
            self.now += seconds

    def time(self) -> float:
        """The chain's clock, for a party's deadline checks."""
        return float(self.now)

    def start_training(self) -> None:
        """Open round 0 (the admin's ``startTraining``)."""
        with self.lock:
            if 0 in self.rounds:
                self._revert("startTraining", RevertName.TrainingAlreadyStarted)
            self._open(0)

    # --- rules -----------------------------------------------------------------

    def _revert(self, function: str, name: RevertName, *args: Any) -> None:
        raise ContractRevertError(name, args, function)

    def _write(self) -> TxResult:
        self.block += 1
        return TxResult(GAS, "0x" + self.block.to_bytes(32, "big").hex())

    def _open(self, r: int) -> None:
        pool = sorted(self.miners)
        k = min(self.params.committee_size, len(pool))
        committee = tuple(pool[(r + j) % len(pool)] for j in range(k))
        expected = sum(1 for s in self.clients.values() if s == ACTIVE)
        if self.params.clients_per_round:
            expected = min(expected, self.params.clients_per_round)
        seed = hashlib.sha256(f"round {r}".encode()).digest()
        self.current = r
        self.rounds[r] = _Round(self.now, expected, committee, self.population, seed)

    def sampled(self, r: int, account: Address) -> bool:
        """``isSampled``: an active client drawn to train in ``r``, the open round."""
        rd = self.rounds.get(r)
        if r != self.current or rd is None or rd.accepted is not None:
            return False
        if self.clients.get(account) != ACTIVE:
            return False
        index = self.client_index[account]
        return is_sampled(rd.seed, rd.population, self.params.clients_per_round, index)

    def ends(self, rd: _Round) -> tuple[int, int, int]:
        """Submit, commit and reveal ends of a round (``FLProtocol._phaseEnds``)."""
        p = self.params
        s = rd.submit_closed or rd.opened_at + p.submit_duration
        if rd.commit_closed:
            c = rd.commit_closed
        elif not rd.submissions or not rd.committee:
            c = s
        else:
            c = s + p.commit_duration
        if rd.reveal_closed:
            v = rd.reveal_closed
        elif not rd.commitments and self.now >= c:
            v = c
        else:
            v = c + p.reveal_duration
        return s, c, v

    def phase_of(self, r: int) -> Phase:
        rd = self.rounds.get(r)
        if rd is None:
            return Phase.NOT_OPENED
        if rd.accepted is not None:
            return Phase.FINALIZED
        s, c, v = self.ends(rd)
        for end, phase in ((s, Phase.SUBMIT), (c, Phase.COMMIT), (v, Phase.REVEAL)):
            if self.now < end:
                return phase
        return Phase.CLOSED

    def in_phase(self, function: str, r: int, expected: Phase) -> _Round:
        actual = self.phase_of(r)
        if actual != expected:
            self._revert(function, RevertName.NotInPhase, r, int(expected), int(actual))
        return self.rounds[r]

    def seat(self, function: str, r: int, account: Address) -> _Round:
        rd = self.rounds.get(r)
        if rd is None or account not in rd.committee:
            self._revert(function, RevertName.NotInCommittee, r, account)
        assert rd is not None
        return rd

    def register(self, account: Address, miner: bool) -> TxResult:
        function = "registerMiner" if miner else "registerClient"
        active = account in self.miners if miner else self.clients.get(account) == ACTIVE
        if active:
            self._revert(function, RevertName.AlreadyRegistered, account)
        if miner:
            self.miners.append(account)
        else:
            self.clients[account] = ACTIVE
            self.client_index[account] = self.population  # a fresh index per registration
            self.population += 1
            rd = self.rounds.get(self.current)
            sampling = self.params.clients_per_round != 0
            if rd is not None and self.phase_of(self.current) == Phase.SUBMIT and not sampling:
                rd.expected += 1
        return self._write()

    def submit(self, account: Address, r: int, cid: str, samples: int) -> TxResult:
        function = "submitUpdate"
        if self.clients.get(account) != ACTIVE:
            self._revert(function, RevertName.NotClient, account)
        rd = self.in_phase(function, r, Phase.SUBMIT)
        if any(s.client == account for s in rd.submissions):
            self._revert(function, RevertName.AlreadySubmitted, r, account)
        if not self.sampled(r, account):
            self._revert(function, RevertName.NotSampled, r, account)
        try:
            cid_to_bytes(cid)
        except FLchainError:
            self._revert(function, RevertName.InvalidCid, cid)
        if samples <= 0:  # refused before sending, as ProtocolClient does
            raise ConfigError(f"num_samples must be positive, got {samples}")
        if samples > MAX_SAMPLES:
            self._revert(function, RevertName.TooManySamples, samples, MAX_SAMPLES)
        index = len(rd.submissions)
        rd.submissions.append(Submission(r, index, account, CIDStr(cid), samples, self.block + 1))
        if index + 1 >= rd.expected or index + 1 == self.params.max_updates_per_round:
            rd.submit_closed = self.now
        return self._write()

    def commit(self, account: Address, r: int, commitment: bytes) -> TxResult:
        function = "commitVotes"
        rd = self.in_phase(function, r, Phase.COMMIT)
        self.seat(function, r, account)
        if account in rd.commitments:
            self._revert(function, RevertName.AlreadyCommitted, r, account)
        if commitment == bytes(32):
            self._revert(function, RevertName.EmptyCommitment)
        rd.commitments[account] = commitment
        if len(rd.commitments) == len(rd.committee):
            rd.commit_closed = self.now
        return self._write()

    def reveal(self, account: Address, r: int, scores: Sequence[int], salt: bytes) -> TxResult:
        function = "revealVotes"
        rd = self.in_phase(function, r, Phase.REVEAL)
        self.seat(function, r, account)
        if account not in rd.commitments:
            self._revert(function, RevertName.NotCommitted, r, account)
        if account in rd.reveals:
            self._revert(function, RevertName.AlreadyRevealed, r, account)
        if len(scores) != len(rd.submissions):
            self._revert(function, RevertName.WrongScoreCount, len(scores), len(rd.submissions))
        if self.commitment(r, account, scores, salt) != rd.commitments[account]:
            self._revert(function, RevertName.CommitmentMismatch, r, account)
        for i, s in enumerate(scores):
            if not 0 <= s <= MAX_SCORE:
                self._revert(function, RevertName.ScoreOutOfRange, i, s)
        rd.reveals[account] = list(scores)
        if len(rd.reveals) == len(rd.commitments):
            rd.reveal_closed = self.now
        return self._write()

    def commitment(self, r: int, miner: Address, scores: Sequence[int], salt: bytes) -> bytes:
        return vote_commitment(self.chain_id, TASK, r, miner, scores, salt)

    def finalize(self, r: int) -> TxResult:
        function = "finalizeRound"
        rd = self.rounds.get(r)
        if rd is not None and rd.accepted is not None:
            self._revert(function, RevertName.RoundAlreadyFinalized, r)
        rd = self.in_phase(function, r, Phase.CLOSED)
        p, n = self.params, len(rd.submissions)
        revealed = {s: rd.reveals[m] for s, m in enumerate(rd.committee) if m in rd.reveals}
        decision = decide_updates(n, revealed, quorum=p.quorum, threshold=self.threshold)
        rd.accepted = list(decision.accepted)
        if decision.decided:
            amounts = client_rewards(p.client_reward_per_round, decision.updates)
            for sub, amount in zip(rd.submissions, amounts, strict=True):
                self.credit(sub.client, amount)
            accepted = [u.accepted for u in decision.updates]
            for seat, scores in revealed.items() if n else ():
                agreed = miner_agreement(scores, accepted, self.threshold)
                amount = miner_reward(p.miner_reward_per_round, agreed, n, len(rd.committee))
                self.credit(rd.committee[seat], amount)
        self._open(r + 1)
        return self._write()

    def credit(self, account: Address, amount: int) -> None:
        if amount:
            self.owed[account] = self.owed.get(account, 0) + amount

    def claim(self, account: Address) -> TxResult:
        amount = self.owed.pop(account, 0)
        if not amount:
            self._revert("claim", RevertName.NothingToClaim, account)
        self.minted[account] = self.minted.get(account, 0) + amount
        return self._write()

    @property
    def threshold(self) -> int:
        return self.params.acceptance_threshold

    def certify(self, account: Address, r: int, cid: str) -> TxResult:
        function = "certifyAggregate"
        rd = self.rounds.get(r)
        if rd is None or rd.accepted is None:
            self._revert(function, RevertName.RoundNotFinalized, r)
        assert rd is not None
        if r + 1 < self.current:
            self._revert(function, RevertName.CertificationClosed, r, self.current)
        try:
            cid_to_bytes(cid)
        except FLchainError:
            self._revert(function, RevertName.InvalidCid, cid)
        counted = account in rd.committee
        if not counted and self.clients.get(account) != ACTIVE:
            self._revert(function, RevertName.NotAttester, r, account)
        if account in rd.attestations:
            self._revert(function, RevertName.AlreadyAttested, r, account)
        rd.attestations[account] = CIDStr(cid)
        if rd.certified is None and counted:
            rd.counts[CIDStr(cid)] = rd.counts.get(CIDStr(cid), 0) + 1
            if rd.counts[CIDStr(cid)] >= self.params.quorum:
                rd.certified = CIDStr(cid)
        return self._write()

    def info(self, r: int) -> RoundInfo:
        rd = self.rounds.get(r)
        if rd is None:
            return RoundInfo(r, Phase.NOT_OPENED, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, False)
        s, c, v = self.ends(rd)
        return RoundInfo(
            round=r,
            phase=self.phase_of(r),
            opened_at=rd.opened_at,
            submit_end=s,
            commit_end=c,
            reveal_end=v,
            expected_submissions=rd.expected,
            num_submissions=len(rd.submissions),
            committee_size=len(rd.committee),
            num_commits=len(rd.commitments),
            num_reveals=len(rd.reveals),
            num_accepted=len(rd.accepted or ()),
            certified=rd.certified is not None,
        )
