"""The models behind the history: fetch, verify, re-aggregate, evaluate, re-score.

For every finalized round, the :class:`ModelAuditor` fetches the submitted
updates by the CIDs the chain recorded (every read is re-hashed against its
CID by the store; each file must decode to the task's architecture), repeats
the task's aggregation over the *accepted* ones with
:func:`flchain.task.aggregate.aggregate_round` — the very function every client
and miner runs — and compares the resulting CID with the certified one, bit
for bit. A missing or corrupted update flags its round and the audit goes on:
the next round then starts from the certified model when the store has it.

With test data, each round's global model is evaluated (the accuracy curve),
and each update is re-scored with the task's own proof-of-quality rules
(:mod:`flchain.task.quality`) on that held-out data, so a report can show why a
rejection was right (or not) in the auditor's own eyes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum

import numpy as np

from flchain.app.program import TaskProgram
from flchain.audit.checks import Discrepancy
from flchain.audit.measure import ArraysView, HeldOutView, ProgramView
from flchain.chain.history import RoundRecord
from flchain.exceptions import FLchainError
from flchain.learning.models import build_model
from flchain.learning.strategies import strategy_from_name
from flchain.learning.training import configure_torch
from flchain.learning.weights import get_weights
from flchain.storage.base import ContentStore
from flchain.storage.codec import ArchitectureSpec, ModelMeta, decode_weights_from_store
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, aggregate_round
from flchain.task.compression import fetch_update
from flchain.task.evaluation import classifier_head, train_config
from flchain.task.spec import TaskSpec
from flchain.types import ArrayPair, CIDStr, Weights


@dataclass
class UpdateCheck:
    """One submitted update as the auditor found it."""

    index: int
    client: str
    cid: CIDStr
    num_samples: int
    fetched: bool = False
    error: str | None = None  # why it could not be fetched or decoded
    notes: list[str] = field(default_factory=list)  # metadata that does not match the chain
    accuracy: float | None = None  # the update evaluated on the test data
    loss: float | None = None
    score: int | None = None  # the auditor's own proof-of-quality score
    reason: str | None = None


class AggregateStatus(StrEnum):
    """How a round's recomputed aggregate compares with the certified one."""

    OPEN = "open"  # not finalized yet
    MATCH = "match"
    MISMATCH = "mismatch"
    NOTHING_ACCEPTED = "nothing accepted"
    UNCERTIFIED = "uncertified"
    UNVERIFIABLE = "unverifiable"
    NOT_CHECKED = "not checked"  # models were not checked (no store)


@dataclass
class ModelRound:
    """A round's models: updates, recomputed and certified aggregate, global accuracy."""

    round: int
    updates: list[UpdateCheck]
    certified: CIDStr | None
    recomputed: CIDStr | None
    status: AggregateStatus
    accuracy: float | None = None
    loss: float | None = None
    discrepancies: list[Discrepancy] = field(default_factory=list)


class ModelAuditor:
    """Follows the global model round by round, as every honest party does."""

    def __init__(
        self,
        store: ContentStore,
        spec: TaskSpec,
        task: str,
        test_data: ArrayPair | None = None,
        *,
        rescore: bool = True,
        program: TaskProgram | None = None,
    ) -> None:
        self.store = store
        self.spec = spec
        self.task = task
        configure_torch(1)  # small models evaluate fastest on one thread
        self.strategy = strategy_from_name(spec.strategy, **spec.strategy_params)
        if program is None:  # the built-in model, on the given test data
            model = build_model(spec.arch, seed=spec.seed)
            self.arch = ArchitectureSpec.from_weights(get_weights(model))
            self.head = classifier_head(model)
            self.measure: ProgramView | None = (
                ArraysView(model, test_data, train_config(spec, self.strategy))
                if test_data is not None
                else None
            )
        else:  # the task's app, on its held-out partition
            self.arch = ArchitectureSpec.from_weights(program.initial_weights())
            self.head = program.head
            self.measure = HeldOutView(program)
        self.rescore = rescore and self.measure is not None
        self.current: GlobalModel | None = None
        self.initial_eval: tuple[float, float] | None = None

    # --- setup -----------------------------------------------------------------------

    def start(self, initial_cid: CIDStr) -> list[Discrepancy]:
        """Load the initial model (round 0's global) by its on-chain CID."""
        try:
            weights, _ = self.fetch(initial_cid)
        except (FLchainError, OSError) as exc:
            return [Discrepancy(None, "initial model fetched", initial_cid, "on chain", str(exc))]
        self.current = GlobalModel(0, initial_cid, weights)
        self.initial_eval = self.evaluate(weights)
        return []

    def fetch(self, cid: str) -> tuple[Weights, ModelMeta]:
        return decode_weights_from_store(
            self.store, cid, expected=self.arch, max_bytes=self.spec.scoring.max_update_bytes
        )

    def evaluate(self, weights: Mapping[str, np.ndarray]) -> tuple[float, float] | None:
        if self.measure is None:
            return None
        found = self.measure.evaluate(dict(weights))
        return found.accuracy, found.loss

    # --- one round -------------------------------------------------------------------

    def audit_round(self, rec: RoundRecord) -> ModelRound:
        """Verify ``rec``'s updates and aggregate; advance to the next global model."""
        assert rec.finalization is not None, "only finalized rounds are audited"
        accepted = set(rec.finalization.accepted)
        current = self.current
        checks, weights = self.fetch_updates(rec, accepted, current)
        found = _input_findings(rec, checks, accepted)
        if self.rescore and current is not None:
            self.score(current, checks, weights)
        recomputed, status, next_model = self.reaggregate(rec, current, checks, weights, found)
        certified = rec.certified_state
        self.current = self.advance(rec.round, current, certified, recomputed, next_model)
        result = ModelRound(rec.round, checks, certified, recomputed, status)
        result.discrepancies = found
        if self.current is not None:
            ev = self.evaluate(self.current.weights)
            if ev is not None:
                result.accuracy, result.loss = ev
        return result

    def fetch_updates(
        self, rec: RoundRecord, accepted: set[int], current: GlobalModel | None
    ) -> tuple[list[UpdateCheck], dict[int, Weights]]:
        """Fetch and decode every update that is needed (accepted ones; all when re-scoring),
        decompressed against ``current`` when the task compresses."""
        checks: list[UpdateCheck] = []
        weights: dict[int, Weights] = {}
        for s in rec.submissions:
            c = UpdateCheck(s.index, s.client, s.cid, s.num_samples)
            checks.append(c)
            if s.index not in accepted and not self.rescore:
                continue
            try:
                w, meta = fetch_update(
                    self.store, s.cid, spec=self.spec, arch=self.arch, parent=current
                )
            except (FLchainError, OSError) as exc:
                c.error = f"{type(exc).__name__}: {exc}"
                continue
            c.fetched, weights[s.index] = True, w
            c.notes = _meta_notes(meta, rec.round, s.client, self.spec.arch, current)
        return checks, weights

    def score(
        self, current: GlobalModel, checks: list[UpdateCheck], weights: dict[int, Weights]
    ) -> None:
        """The auditor's own proof-of-quality scores (the miners' rules) on its held-out data
        (a seeded subset of it, ``measure.SCORING_EXAMPLES``).

        Its data are disjoint from every client's and every miner's, and its
        reference update is its own, so this is an independent view: an accepted
        update that it scores 0 is flagged in the report.
        """
        from flchain.task.evaluation import derive_seed
        from flchain.task.quality import Evaluation, score_round

        measure = self.measure
        assert measure is not None
        kept: dict[int, Evaluation] = {}
        alive = {id(w) for w in weights.values()}  # held by ``weights``: their ids stay theirs

        def evaluate_fn(w: Weights) -> Evaluation:
            """Each update's own model is evaluated once, for its verdict and for the report."""
            if id(w) not in alive:
                return measure.evaluate_for_scoring(w)
            if id(w) not in kept:
                kept[id(w)] = measure.evaluate_for_scoring(w)
            return kept[id(w)]

        base = evaluate_fn(current.weights)
        seed = derive_seed(self.spec.seed, "reference", "auditor", current.round)
        reference = measure.reference(current.weights, current.round, seed)
        updates = [None if c.notes else weights.get(c.index) for c in checks]
        failures = {
            i: c.error or (c.notes[0] if c.notes else "not fetched")
            for i, c in enumerate(checks)
            if updates[i] is None
        }
        verdicts = score_round(
            current.weights,
            updates,
            evaluate_fn,
            base,
            self.spec.scoring,
            failures,
            samples=[c.num_samples for c in checks],
            reference=reference,
            sample_cap=self.spec.sample_cap,
            head=self.head,
        )
        for c, v, w in zip(checks, verdicts, updates, strict=True):
            c.score, c.reason = int(v.score), v.reason
            if w is not None:
                found = evaluate_fn(w)
                c.accuracy, c.loss = found.accuracy, found.loss

    def reaggregate(
        self,
        rec: RoundRecord,
        current: GlobalModel | None,
        checks: list[UpdateCheck],
        weights: dict[int, Weights],
        found: list[Discrepancy],
    ) -> tuple[CIDStr | None, AggregateStatus, GlobalModel | None]:
        """Repeat the task's aggregation; compare its CID with the certified one."""
        r, certified = rec.round, rec.certified_state

        def differs(found_value: str | None) -> None:
            found.append(Discrepancy(r, "certified aggregate", "aggregate", certified, found_value))

        chosen = [c for c in checks if rec.finalization and c.index in rec.finalization.accepted]
        if not chosen:
            if certified is not None:
                differs("nothing accepted")
                return None, AggregateStatus.MISMATCH, None
            return None, AggregateStatus.NOTHING_ACCEPTED, current
        missing = [c.index for c in chosen if c.index not in weights]
        if current is None or missing:
            why = "parent model unknown" if current is None else f"update(s) {missing} unavailable"
            differs(f"unverifiable: {why}")
            return None, AggregateStatus.UNVERIFIABLE, None
        updates = [
            AcceptedUpdate(c.index, c.cid, c.num_samples, c.client, weights[c.index])
            for c in chosen
        ]
        try:
            result = aggregate_round(
                self.strategy, current, updates, task=self.task, spec=self.spec
            )
        except FLchainError as exc:
            differs(str(exc))
            return None, AggregateStatus.UNVERIFIABLE, None
        cid = result.model.cid
        if certified is None:
            found.append(Discrepancy(r, "certified aggregate", "aggregate", None, cid))
            return cid, AggregateStatus.UNCERTIFIED, result.model
        if certified != cid:
            differs(cid)
            return cid, AggregateStatus.MISMATCH, result.model
        return cid, AggregateStatus.MATCH, result.model

    def advance(
        self,
        r: int,
        current: GlobalModel | None,
        certified: CIDStr | None,
        recomputed: CIDStr | None,
        model: GlobalModel | None,
    ) -> GlobalModel | None:
        """The next round's global model: ours when it matches, else the certified one."""
        if model is not None and (certified is None or certified == recomputed):
            return model
        if certified is not None:
            try:
                weights, _ = self.fetch(certified)
                state = model.state if model is not None else current.state if current else None
                return GlobalModel(r + 1, certified, weights, state)
            except (FLchainError, OSError):
                pass
        return model


def _input_findings(
    rec: RoundRecord, checks: list[UpdateCheck], accepted: set[int]
) -> list[Discrepancy]:
    """The certified CID in the event equals the state's; every accepted update verifies."""
    r = rec.round
    found = []
    if rec.certified != rec.certified_state:
        found.append(
            Discrepancy(
                r, "certified CID (event vs state)", "aggregate", rec.certified_state, rec.certified
            )
        )
    for c in checks:
        if c.index in accepted and c.error is not None:
            subject = f"update {c.index} ({c.cid})"
            found.append(Discrepancy(r, "accepted update verifies", subject, "accepted", c.error))
    return found


def _meta_notes(
    meta: ModelMeta, round_id: int, client: str, arch: str, current: GlobalModel | None
) -> list[str]:
    """Where an update file's metadata disagree with the chain (the miners' rule)."""
    from flchain.task.quality import ExpectedMeta, check_metadata

    if current is None:
        return []
    mismatch = check_metadata(asdict(meta), ExpectedMeta(round_id, client, arch, current.cid))
    return [] if mismatch is None else [mismatch]
