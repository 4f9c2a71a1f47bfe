"""The audit's privacy section: every client's ε, recomputed from the spec and the chain.

Each update a client submitted is one release of the task's Gaussian mechanism
(``flchain.task.privacy``); the auditor counts them from the chain's
submissions, round by round, and asks the RDP accountant for ε. A spec whose
noise was derived from a target ε is checked against it: a client above the
target is a discrepancy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from flchain.audit.checks import Discrepancy
from flchain.chain.history_types import RoundRecord
from flchain.task.privacy import epsilon_by_round
from flchain.task.spec import TaskSpec

EPSILON_SLACK = 1e-6
"""ε is reported rounded to 6 decimals; a target is met within this."""


def privacy_report(
    spec: TaskSpec | None, rounds: Sequence[RoundRecord]
) -> tuple[dict[str, Any] | None, list[Discrepancy]]:
    """The settings, ε per client after each round with submissions, the final ε per
    client, and the discrepancies (None, [] when the task has no DP or no spec)."""
    if spec is None or not spec.dp.enabled:
        return None, []
    settings = spec.dp
    per_round = epsilon_by_round(
        settings, [(rec.round, [s.client for s in rec.submissions]) for rec in rounds]
    )
    final = per_round[max(per_round)] if per_round else {}
    found: list[Discrepancy] = []
    if settings.target_epsilon:
        for client, eps in final.items():
            if eps > settings.target_epsilon + EPSILON_SLACK:
                found.append(
                    Discrepancy(None, "dp ε within target", client, settings.target_epsilon, eps)
                )
    section = {
        **asdict(settings),
        "epsilon_by_round": {str(r): eps for r, eps in per_round.items()},
        "epsilon": final,
        "max_epsilon": max(final.values(), default=0.0),
    }
    return section, found


def privacy_line(privacy: dict[str, Any]) -> str:
    """The DP settings and the largest recomputed ε of any client."""
    target = privacy["target_epsilon"]
    return (
        f"differential privacy: clip {privacy['clip']:g}, noise multiplier "
        f"{privacy['noise_multiplier']:.4g}; recomputed ε ≤ {privacy['max_epsilon']:.3f} "
        f"at δ = {privacy['delta']:g} per client" + (f" (target {target:g})" if target else "")
    )
