"""Following a run from the chain and the children's logs, one round at a time.

A round is reported once it is finalized and its aggregate is certified (or
nothing was accepted, or certification did not come within a grace period).
The orchestrator evaluates the certified global model on the held-out test set,
so ``accuracy`` is that of the model the chain vouches for.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flchain.chain.history_types import Finalization
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase
from flchain.exceptions import AppError, StorageError
from flchain.party.roundlog import read_all_events
from flchain.party.workload import Workload
from flchain.run.metrics import gas_for_round, phase_seconds
from flchain.storage.base import ContentStore
from flchain.storage.codec import decode_weights_from_store
from flchain.task.privacy import epsilon_by_round

CERTIFY_GRACE_S = 30.0


LOG = logging.getLogger(__name__)


@dataclass
class RoundReport:
    """One line of ``metrics.jsonl``."""

    round: int
    accuracy: float
    loss: float
    submitted: int
    accepted: int
    rejected: int
    certified_cid: str | None
    gas_used: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    round_s: float = 0.0
    outcome: Finalization | None = None
    dp_epsilon: dict[str, float] | None = None
    """With DP on: ε of every client (by address) that has submitted so far, after this round."""
    bytes_pinned: dict[str, int] = field(default_factory=dict)
    """The size of each client's update file (by address), as the store holds it."""

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "round": self.round,
            "accuracy": round(self.accuracy, 6),
            "loss": round(self.loss, 6),
            "submitted": self.submitted,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "certified_cid": self.certified_cid,
            "gas_used": self.gas_used,
            "round_s": round(self.round_s, 4),
        }
        if self.dp_epsilon is not None:
            row["dp_epsilon"] = self.dp_epsilon
        row["bytes_pinned"] = self.bytes_pinned
        row["bytes_round"] = sum(self.bytes_pinned.values())
        row.update(self.phases)
        return row


class Monitor:
    """Reports rounds as they complete; knows the current round and phase."""

    def __init__(
        self,
        protocol: ProtocolClient,
        store: ContentStore,
        workload: Workload,
        log_dir: Path,
        initial_cid: str,
    ) -> None:
        self.protocol = protocol
        self.store = store
        self.work = workload
        self.log_dir = log_dir
        self.next_round = 0
        self.reports: list[RoundReport] = []
        self._finalized_at: dict[int, float] = {}
        self._outcomes: dict[int, Finalization] = {}
        self._round_start = time.monotonic()
        self._submitters: list[tuple[int, list[str]]] = []
        self.initial = self.evaluate_cid(initial_cid)
        self.last_eval = self.initial

    def start_clock(self) -> None:
        """Round 0 starts now (when training starts)."""
        self._round_start = time.monotonic()

    def evaluate_cid(self, cid: str) -> tuple[float, float]:
        weights, _ = decode_weights_from_store(self.store, cid, expected=self.work.arch)
        program = self.work.program
        found = program.evaluate(program.partitions.held_out, weights)
        return found.accuracy, found.loss

    def backdoor_success(self, cid: str) -> float | None:
        """The backdoor attack's success rate on the test set for the model ``cid``
        (None for an app task: its data are its own)."""
        from flchain.app.builtin import BuiltinProgram
        from flchain.learning.attacks import ATTACKS, attack_success_rate, trigger_for
        from flchain.learning.training import predict

        program = self.work.program
        if not isinstance(program, BuiltinProgram):
            return None
        weights, _ = decode_weights_from_store(self.store, cid, expected=self.work.arch)
        x, y = program.data.test
        target = int(ATTACKS["backdoor"].params["target"])
        return attack_success_rate(
            lambda rows: predict(program.model, rows, weights),
            x,
            y,
            trigger_for(x.shape[1]),
            target,
        )

    def status(self) -> tuple[int, Phase]:
        r = self.protocol.current_round()
        return r, self.protocol.phase(r)

    def poll(self) -> list[RoundReport]:
        """Reports of every round completed since the last call."""
        done: list[RoundReport] = []
        while True:
            report = self._try_report(self.next_round)
            if report is None:
                return done
            done.append(report)
            self.reports.append(report)
            self.next_round += 1

    def _try_report(self, r: int) -> RoundReport | None:
        if self.protocol.phase(r) != Phase.FINALIZED:
            return None
        now = time.monotonic()
        self._finalized_at.setdefault(r, now)
        outcome = self._outcomes.get(r) or self.protocol.round_outcome(r)
        if outcome is None:
            return None
        self._outcomes[r] = outcome
        certified = self.protocol.certified_aggregate(r)
        waited = now - self._finalized_at[r]
        if certified is None and outcome.accepted and waited < CERTIFY_GRACE_S:
            return None
        if certified is not None:
            try:
                self.last_eval = self.evaluate_cid(certified)
            except (StorageError, AppError) as exc:  # unreadable (a full store) or the app failed
                LOG.warning("round %d: certified model %s is unreadable: %s", r, certified, exc)
        accuracy, loss = self.last_eval
        events = read_all_events(self.log_dir)
        report = RoundReport(
            round=r,
            accuracy=accuracy,
            loss=loss,
            submitted=outcome.num_submissions,
            accepted=len(outcome.accepted),
            rejected=outcome.num_submissions - len(outcome.accepted),
            certified_cid=certified,
            gas_used=gas_for_round(events, r),
            phases=phase_seconds(events, r),
            round_s=now - self._round_start,
            outcome=outcome,
            dp_epsilon=self._epsilons(r),
            bytes_pinned=self._bytes(r),
        )
        self._round_start = now
        return report

    def _epsilons(self, r: int) -> dict[str, float] | None:
        """Every client's ε after round ``r`` (None without DP), from the chain's submissions."""
        settings = self.work.spec.dp
        if not settings.enabled:
            return None
        self._submitters.append((r, [s.client for s in self.protocol.submissions(r)]))
        return epsilon_by_round(settings, self._submitters)[r]

    def _bytes(self, r: int) -> dict[str, int]:
        """The file size of every update submitted in round ``r`` (by client address)."""
        sizes: dict[str, int] = {}
        for s in self.protocol.submissions(r):
            try:
                sizes[s.client] = self.store.stat(s.cid).size
            except StorageError as exc:  # not in the store: nothing was pinned here
                LOG.warning("round %d: update %s is not in the store: %s", r, s.cid, exc)
        return sizes

    def refresh_phases(self) -> list[dict[str, Any]]:
        """Re-read the logs once every child is done (late events: aggregation, attests).

        Returns the events read, so the caller need not read the logs again.
        """
        events = read_all_events(self.log_dir)
        for report in self.reports:
            report.phases = phase_seconds(events, report.round)
            report.gas_used = max(report.gas_used, gas_for_round(events, report.round))
        return events
