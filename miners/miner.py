"""The miner process: one loop over rounds, one method per step.

    register → for each round r:
        wait until r opens → if on r's committee:
            wait for the commit phase → fetch + check every update → score
            → commit → wait for the reveal phase → reveal
        → finalize once the round is closed (committee seats first, then
          everyone else after a delay, so someone always does)
        → fetch the accepted updates → aggregate → pin → attest (committee)

Proof-of-quality rules live in :mod:`flchain.task.quality` (the auditor applies
the same ones); this module only moves data. The hidden test behaviours
(``no-reveal``, ``wrong-aggregate``) live in :mod:`miners.behaviours`.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from flchain.chain.protocol_types import Phase, Submission
from flchain.chain.revert_names import RevertName
from flchain.exceptions import AppError, ContractRevertError, StorageError, TransactionFailedError
from flchain.party.behaviours import MinerBehaviour, Role
from flchain.party.participant import Participant
from flchain.storage.codec import encode_weights
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, aggregate_meta
from flchain.task.evaluation import derive_seed
from flchain.task.quality import Evaluation, ExpectedMeta, check_metadata, score_round
from flchain.task.salt import derive_salt
from flchain.types import CIDStr
from flchain.types import Weights as ScoreWeights
from miners.behaviours import CONDUCTS

FINALIZE_STAGGER_S = 1.0
"""Delay between successive miners' attempts to finalize the same round."""


class Miner(Participant):
    """One miner of a task, driven round by round."""

    role = Role.MINER

    def prepare(self) -> None:
        self.behaviour = MinerBehaviour(self.behaviour)
        self.conduct = CONDUCTS[self.behaviour]
        self.previous_scores: list[int] = []

    # --- the round -----------------------------------------------------------

    def play_round(self, r: int) -> None:
        assert self.global_model is not None
        self.wait_for_phase(r, lambda p: p != Phase.NOT_OPENED, "to open")
        seat = self.seat(r)
        if seat is not None:
            self.vote(r, self.global_model)
        self.finalize(r, seat)
        accepted = self.fetch_accepted(r)
        self.global_model = self.aggregate(r, self.global_model, accepted, seat is not None)

    # --- steps ---------------------------------------------------------------

    def seat(self, r: int) -> int | None:
        committee = self.party.protocol.committee(r)
        seat = committee.index(self.party.address) if self.party.address in committee else None
        self.log.emit("committee", round=r, seat=seat, size=len(committee))
        return seat

    def vote(self, r: int, model: GlobalModel) -> None:
        """Score every update of the round, then commit and reveal the scores."""
        info = self.wait_for_phase(r, lambda p: p >= Phase.COMMIT, "to leave submit")
        if info.phase != Phase.COMMIT:
            self.log.warning("round %d: commit phase missed (phase %s)", r, info.phase.name)
            return
        submissions = self.party.protocol.submissions(r)
        scores = self.score(r, model, submissions)
        if self.conduct.lie is not None:
            rng = np.random.default_rng(derive_seed(self.party.spec.seed, "lie", self.index, r))
            scores = self.conduct.lie(scores, self.previous_scores, rng)
            self.log.warning("round %d: behaviour %s reveals %s", r, self.behaviour, scores)
        self.previous_scores = scores
        salt = derive_salt(self.party.private_key, self.party.chain_id, self.party.task, r)
        protocol = self.party.protocol
        try:
            with self.log.timed("committed", round=r) as extra:
                commitment = protocol.vote_commitment(r, scores, salt)
                extra["gas"] = protocol.commit_votes(r, commitment).gas_used
        except ContractRevertError as exc:
            self.log.error("round %d: commit refused: %s", r, exc)
            return
        if not self.conduct.reveals:
            self.log.warning("round %d: test behaviour no-reveal: not revealing", r)
            return
        info = self.wait_for_phase(r, lambda p: p >= Phase.REVEAL, "to reach reveal")
        if info.phase != Phase.REVEAL:
            self.log.warning("round %d: reveal phase missed (phase %s)", r, info.phase.name)
            return
        try:
            with self.log.timed("revealed", round=r) as extra:
                extra["gas"] = protocol.reveal_votes(r, scores, salt).gas_used
        except ContractRevertError as exc:
            self.log.error("round %d: reveal refused: %s", r, exc)

    def score(self, r: int, model: GlobalModel, submissions: list[Submission]) -> list[int]:
        """Proof-of-quality: integrity, size, plagiarism, direction, cluster, effect."""
        with self.log.timed("scored", round=r) as extra:
            updates: list[ScoreWeights | None] = []
            failures: dict[int, str] = {}
            for s in submissions:
                reason = self.fetch_for_scoring(r, model, s, updates)
                if reason is not None:
                    failures[s.index] = reason
                    self.log.warning("round %d: update %d scores 0: %s", r, s.index, reason)
            spec = self.party.spec
            program = self.work.program
            seed = derive_seed(spec.seed, "reference", self.index, r)
            try:
                reference = program.train(self.partition, dict(model.weights), r, seed).weights
                base = self.evaluate(model.weights)
                verdicts = score_round(
                    model.weights,
                    updates,
                    self.evaluate,
                    base,
                    spec.scoring,
                    failures,
                    samples=[s.num_samples for s in submissions],
                    reference=reference,
                    sample_cap=spec.sample_cap,
                    head=program.head,
                )
            except AppError as exc:  # the task's own code failed here: no judgement
                self.log.error("round %d: the task's program failed, scoring 0: %s", r, exc)
                extra["error"] = str(exc)
                return [0] * len(submissions)
            extra["scores"] = [int(v.score) for v in verdicts]
            extra["reasons"] = [v.reason for v in verdicts]
            extra["base_accuracy"] = round(base.accuracy, 4)
        for s, v in zip(submissions, verdicts, strict=True):
            self.log.info("round %d: update %d (%s): %d — %s", r, s.index, s.cid, v.score, v.reason)
        return [int(v.score) for v in verdicts]

    def fetch_for_scoring(
        self, r: int, model: GlobalModel, s: Submission, updates: list[ScoreWeights | None]
    ) -> str | None:
        """Fetch, decode and check one update's metadata; append it (or None); say why not."""
        expected = ExpectedMeta(r, s.client, self.party.spec.arch, model.cid)
        try:
            weights, meta = self.fetch_update_with_meta(s.cid, model)
        except StorageError as exc:
            updates.append(None)
            return f"integrity: {type(exc).__name__}: {exc}"
        mismatch = check_metadata(dataclasses.asdict(meta), expected)
        if mismatch is not None:
            updates.append(None)
            return mismatch
        self.cache[s.cid] = weights
        updates.append(weights)
        return None

    def finalize(self, r: int, seat: int | None) -> None:
        """Finalize once closed; committee seat j tries after j delays, others after k + i."""
        info = self.wait_for_phase(r, lambda p: p >= Phase.CLOSED, "to close")
        if info.phase == Phase.FINALIZED:
            return
        k = self.party.params.committee_size
        turn = seat if seat is not None else k + self.index
        give_up = time.monotonic() + turn * FINALIZE_STAGGER_S
        while time.monotonic() < give_up:
            if self.party.protocol.phase(r) == Phase.FINALIZED:
                return
            time.sleep(self.party.poll_s)
        try:
            with self.log.timed("finalized", round=r) as extra:
                tx = self.party.protocol.finalize_round(r)
                extra.update(gas=tx.gas_used, pages=tx.transactions, largest_gas=tx.largest)
            self.log.info("round %d: finalized", r)
        except ContractRevertError as exc:
            if exc.name not in (RevertName.RoundAlreadyFinalized, RevertName.NotInPhase):
                raise
            self.log.emit("finalize_raced", round=r, error=exc.name)
        except TransactionFailedError:  # another party's last page landed just before ours
            if self.party.protocol.phase(r) != Phase.FINALIZED:
                raise
            self.log.emit("finalize_raced", round=r, error="mined after the round was finalized")

    def aggregate(
        self, r: int, model: GlobalModel, accepted: list[AcceptedUpdate], member: bool
    ) -> GlobalModel:
        """Aggregate locally and pin; a committee member also attests the result."""
        result = self.aggregate_locally(r, model, accepted)
        if result.data is not None and member:
            cid = result.model.cid
            if self.conduct.alter is not None:
                cid = self.forge(r, model.cid, result.model.weights)
            self.attest(r, cid)
        return result.model

    def attest(self, r: int, cid: CIDStr) -> None:
        """Record ``cid`` on chain as round ``r``'s aggregate (a refusal is logged)."""
        try:
            with self.log.timed("attested", round=r, cid=cid) as extra:
                extra["gas"] = self.party.protocol.certify_aggregate(r, cid).gas_used
        except ContractRevertError as exc:
            self.log.error("round %d: attestation refused: %s", r, exc)

    def forge(self, r: int, parent: str, weights: ScoreWeights) -> CIDStr:
        """Pin the aggregate as this behaviour alters it; its CID."""
        assert self.conduct.alter is not None
        meta = aggregate_meta(self.party.task, self.party.spec.arch, r, parent)
        cid = self.party.store.put(encode_weights(self.conduct.alter(weights), meta))
        self.log.warning("round %d: test behaviour %s: attesting %s", r, self.behaviour, cid)
        return cid

    # --- helpers -------------------------------------------------------------

    def evaluate(self, weights: ScoreWeights) -> Evaluation:
        return self.work.program.evaluate(self.partition, dict(weights))
