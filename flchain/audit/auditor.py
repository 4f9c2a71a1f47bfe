"""The audit: chain checks, model checks, and one report that joins them.

    history = load_history(resolve_source(testnet=Path(".flchain/testnet.json")))
    report = audit_history(history, store, test_data=load_test_data("digits"))
    report.verified, report.discrepancies, report.rounds

:func:`audit_history` replays the protocol's bookkeeping (:mod:`flchain.audit.ledger`),
follows the models (:mod:`flchain.audit.models`) and assembles per-round
:class:`RoundAudit` rows. Discrepancies are data, never exceptions.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from flchain.app.program import TaskProgram
from flchain.audit.checks import Discrepancy, RoundDecision, count_by_check
from flchain.audit.history import load_spec
from flchain.audit.ledger import LedgerResult, replay
from flchain.audit.measure import app_program
from flchain.audit.models import AggregateStatus, ModelAuditor, ModelRound, UpdateCheck
from flchain.audit.privacy import privacy_report
from flchain.chain.history import ProtocolHistory, RoundRecord
from flchain.exceptions import ConfigError
from flchain.storage.base import ContentStore
from flchain.task.spec import TaskSpec
from flchain.types import ArrayPair


@dataclass
class UpdateRow:
    """One update: what the chain recorded and decided, and what the auditor found."""

    index: int
    client: str
    cid: str
    num_samples: int
    scores: dict[str, int]  # revealed score per committee member
    median: int | None
    accepted: bool | None
    recomputed_median: int | None
    recomputed_accepted: bool | None
    check: UpdateCheck | None = None

    @property
    def flagged(self) -> bool:
        """Accepted on chain, but the auditor's own proof-of-quality rejects it."""
        return bool(self.accepted) and self.check is not None and self.check.score == 0

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "flagged": self.flagged,
            "index": self.index,
            "client": self.client,
            "cid": self.cid,
            "num_samples": self.num_samples,
            "scores": self.scores,
            "median": self.median,
            "accepted": self.accepted,
            "recomputed_median": self.recomputed_median,
            "recomputed_accepted": self.recomputed_accepted,
        }
        c = self.check
        if c is not None:
            row.update(
                verified=c.fetched,
                error=c.error,
                notes=c.notes,
                auditor_accuracy=_round(c.accuracy),
                auditor_loss=_round(c.loss),
                auditor_score=c.score,
                auditor_reason=c.reason,
            )
        return row


@dataclass
class RoundAudit:
    """One round of the report."""

    round: int
    finalized: bool
    submitted: int
    accepted: int
    committee: list[str]
    committed: list[str]
    revealed: list[str]
    certified_cid: str | None = None
    recomputed_cid: str | None = None
    aggregate_status: AggregateStatus = AggregateStatus.OPEN
    accuracy: float | None = None
    loss: float | None = None
    gas_used: int = 0
    transactions: int = 0
    rewards: dict[str, int] = field(default_factory=dict)
    slashes: dict[str, int] = field(default_factory=dict)
    attestations: list[dict[str, Any]] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    updates: list[UpdateRow] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.submitted - self.accepted if self.finalized else 0

    @property
    def cid_ok(self) -> bool | None:
        """True when the certified CID equals the recomputed one (or nothing was accepted)."""
        if not self.finalized or self.aggregate_status == AggregateStatus.NOT_CHECKED:
            return None
        return self.aggregate_status in (AggregateStatus.MATCH, AggregateStatus.NOTHING_ACCEPTED)

    @property
    def ok(self) -> bool:
        return self.finalized and not self.discrepancies

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "finalized": self.finalized,
            "verified": self.ok,
            "submitted": self.submitted,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "committee": self.committee,
            "committed": self.committed,
            "revealed": self.revealed,
            "certified_cid": self.certified_cid,
            "recomputed_cid": self.recomputed_cid,
            "cid_ok": self.cid_ok,
            "aggregate_status": self.aggregate_status,
            "accuracy": _round(self.accuracy),
            "loss": _round(self.loss),
            "gas_used": self.gas_used,
            "transactions": self.transactions,
            "rewards": {k: str(v) for k, v in self.rewards.items()},
            "slashes": {k: str(v) for k, v in self.slashes.items()},
            "votes": self.votes,
            "attestations": self.attestations,
            "updates": [u.to_json() for u in self.updates],
            "discrepancies": [d.to_json() for d in self.discrepancies],
        }


@dataclass
class AuditReport:
    """The whole audit: task, rounds, discrepancies, series for the plots."""

    task: dict[str, Any]
    rounds: list[RoundAudit]
    discrepancies: list[Discrepancy]
    initial_accuracy: float | None
    client_reputation: dict[str, list[int | None]]  # per client, after each finalized round
    miner_reputation: dict[str, list[int | None]]
    rewards: dict[str, int]  # tokens earned per account over the task (recomputed)
    setup_gas: int = 0
    audit_s: float = 0.0
    privacy: dict[str, Any] | None = None  # DP settings and ε per client (flchain.audit.privacy)

    @property
    def verified(self) -> bool:
        return not self.discrepancies

    def summary(self) -> dict[str, Any]:
        """Totals over the finalized rounds, and discrepancies counted by check."""
        done = [r for r in self.rounds if r.finalized]
        last = next((r.accuracy for r in reversed(done) if r.accuracy is not None), None)
        return {
            "finalized_rounds": len(done),
            "submitted": sum(r.submitted for r in done),
            "accepted": sum(r.accepted for r in done),
            "rejected": sum(r.rejected for r in done),
            "flagged": sum(1 for r in done for u in r.updates if u.flagged),
            "aggregates_matching": sum(
                1 for r in done if r.aggregate_status == AggregateStatus.MATCH
            ),
            "final_accuracy": _round(last),
            "gas_used": sum(r.gas_used for r in self.rounds) + self.setup_gas,
            "discrepancies_by_check": count_by_check(self.discrepancies),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "summary": self.summary(),
            "task": self.task,
            "rounds": [r.to_json() for r in self.rounds],
            "discrepancies": [d.to_json() for d in self.discrepancies],
            "initial_accuracy": _round(self.initial_accuracy),
            "client_reputation": self.client_reputation,
            "miner_reputation": self.miner_reputation,
            "rewards": {k: str(v) for k, v in self.rewards.items()},
            "setup_gas": self.setup_gas,
            "audit_s": round(self.audit_s, 3),
            "privacy": self.privacy,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def audit_history(
    history: ProtocolHistory,
    store: ContentStore | None,
    *,
    test_data: ArrayPair | None = None,
    rescore: bool = True,
    spec: TaskSpec | None = None,
    program: TaskProgram | None = None,
) -> AuditReport:
    """Audit ``history``: chain bookkeeping always; models when a store is given (an app
    task's with the app fetched by the CID its spec names, unless ``program`` is given)."""
    start = time.perf_counter()
    ledger = replay(history)
    found = list(ledger.discrepancies)
    models: dict[int, ModelRound] = {}
    initial_accuracy: float | None = None
    if store is not None and spec is None:
        try:
            spec = load_spec(store, history.params.spec_cid)
        except ConfigError as exc:
            found += _no_spec(history, exc)
    privacy, leaks = privacy_report(spec, history.rounds)
    found += leaks
    with ExitStack() as stack:
        if store is not None and spec is not None and not spec.builtin and program is None:
            program, missing = app_program(store, spec, stack)
            found += missing
            spec = spec if program is not None else None  # no model check without the app
        if store is not None and spec is not None:
            auditor = ModelAuditor(
                store, spec, history.protocol, test_data, rescore=rescore, program=program
            )
            found += auditor.start(history.params.initial_model_cid)
            initial_accuracy = auditor.initial_eval[0] if auditor.initial_eval else None
            for rec in history.rounds:
                if rec.finalization is not None:
                    models[rec.round] = auditor.audit_round(rec)
                    found += models[rec.round].discrepancies
    rounds = [_round_audit(rec, ledger, models.get(rec.round), found) for rec in history.rounds]
    report = AuditReport(
        task=_task_json(history, spec),
        rounds=rounds,
        discrepancies=found,
        initial_accuracy=initial_accuracy,
        client_reputation=_series(ledger, history, miner=False),
        miner_reputation=_series(ledger, history, miner=True),
        rewards=_rewards(ledger),
        setup_gas=history.setup_gas,
        privacy=privacy,
    )
    report.audit_s = time.perf_counter() - start
    return report


def _no_spec(history: ProtocolHistory, error: ConfigError) -> list[Discrepancy]:
    """Without the task spec no aggregate can be checked: flag it if any had to be."""
    if not any(r.finalization and r.finalization.accepted for r in history.rounds):
        return []
    return [Discrepancy(None, "task spec fetched", history.params.spec_cid, "on chain", str(error))]


def _round_audit(
    rec: RoundRecord, ledger: LedgerResult, model: ModelRound | None, found: list[Discrepancy]
) -> RoundAudit:
    final = rec.finalization
    decision: RoundDecision | None = ledger.decisions.get(rec.round)
    row = RoundAudit(
        round=rec.round,
        finalized=final is not None,
        submitted=len(rec.submissions),
        accepted=len(final.accepted) if final else 0,
        committee=list(rec.committee),
        committed=[c.miner for c in rec.commits],
        revealed=[v.miner for v in rec.reveals],
        certified_cid=rec.certified_state,
        gas_used=rec.gas_used,
        transactions=rec.transactions,
    )
    for reward in rec.rewards:
        row.rewards[reward.account] = row.rewards.get(reward.account, 0) + reward.amount
    for slash in rec.slashes:
        row.slashes[slash.miner] = row.slashes.get(slash.miner, 0) + slash.amount
    scored = {s.index: s for s in rec.scored}
    checks = {c.index: c for c in model.updates} if model else {}
    for sub in rec.submissions:
        chain = scored.get(sub.index)
        mine = (
            decision.updates[sub.index] if decision and sub.index < len(decision.updates) else None
        )
        row.updates.append(
            UpdateRow(
                index=sub.index,
                client=sub.client,
                cid=sub.cid,
                num_samples=sub.num_samples,
                scores={
                    v.miner: v.scores[sub.index] for v in rec.reveals if sub.index < len(v.scores)
                },
                median=chain.median if chain else None,
                accepted=chain.accepted if chain else None,
                recomputed_median=mine.median if mine else None,
                recomputed_accepted=mine.accepted if mine else None,
                check=checks.get(sub.index),
            )
        )
    if model is not None:
        row.recomputed_cid = model.recomputed
        row.aggregate_status = model.status
        row.accuracy, row.loss = model.accuracy, model.loss
    elif final is not None:
        row.aggregate_status = AggregateStatus.NOT_CHECKED
    recomputed = row.recomputed_cid
    row.attestations = [
        {
            "attester": a.attester,
            "cid": a.cid,
            "agrees": a.cid == recomputed if recomputed else None,
        }
        for a in rec.attestations
    ]
    row.discrepancies = [d for d in found if d.round == rec.round]
    row.votes = _votes(rec, row)
    return row


def _votes(rec: RoundRecord, row: RoundAudit) -> list[dict[str, Any]]:
    """Each committee seat: committed, revealed, reveal matching its commitment, paid or cut."""
    commits = {c.miner: c for c in rec.commits}
    reveals = {v.miner for v in rec.reveals}
    broken = {d.subject for d in row.discrepancies if d.check == "reveal matches commitment"}
    return [
        {
            "seat": seat,
            "miner": miner,
            "commitment": "0x" + commits[miner].commitment.hex() if miner in commits else None,
            "revealed": miner in reveals,
            "commitment_ok": (miner not in broken) if miner in reveals else None,
            "reward": str(row.rewards.get(miner, 0)),
            "slashed": str(row.slashes.get(miner, 0)),
        }
        for seat, miner in enumerate(rec.committee)
    ]


def _rewards(ledger: LedgerResult) -> dict[str, int]:
    """Tokens earned by every participant (zero for those never rewarded)."""
    last = max(ledger.client_reputation, default=None)
    people = set(ledger.rewards)
    if last is not None:
        people |= set(ledger.client_reputation[last]) | set(ledger.miner_reputation[last])
    return {a: ledger.rewards.get(a, 0) for a in sorted(people)}


def _series(
    ledger: LedgerResult, history: ProtocolHistory, *, miner: bool
) -> dict[str, list[int | None]]:
    snapshots = ledger.miner_reputation if miner else ledger.client_reputation
    finalized = [r.round for r in history.rounds if r.finalization is not None]
    accounts = sorted({a for r in finalized for a in snapshots.get(r, {})})
    return {a: [snapshots.get(r, {}).get(a) for r in finalized] for a in accounts}


TOKEN_AMOUNTS = ("client_reward_per_round", "miner_reward_per_round")
"""Task entries that are reward-token amounts in base units (exact strings in JSON)."""


def _task_json(history: ProtocolHistory, spec: TaskSpec | None) -> dict[str, Any]:
    p = history.params
    task: dict[str, Any] = {
        "protocol": history.protocol,
        "token": history.token,
        "chain_id": history.chain_id,
        "from_block": history.from_block,
        "to_block": history.to_block,
        "current_round": history.current_round,
        "initial_model_cid": p.initial_model_cid,
        "spec_cid": p.spec_cid,
        "committee_size": p.committee_size,
        "quorum": p.quorum,
        "acceptance_threshold": p.acceptance_threshold,
        "client_reward_per_round": str(p.client_reward_per_round),
        "miner_reward_per_round": str(p.miner_reward_per_round),
        "sample_cap": p.sample_cap,
        "slash_bps": p.slash_bps,
    }
    if spec is not None:
        task.update(
            dataset=spec.dataset, arch=spec.arch, strategy=spec.strategy, partition=spec.partition
        )
        if spec.app:
            task["app_cid"] = spec.app
        if spec.task.cid:
            task["task_module"] = spec.task.name
            task["task_cid"] = spec.task.cid
    return task
