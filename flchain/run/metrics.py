"""Per-round metrics derived from the children's event logs.

Parties work in parallel, so a phase's time in a round is the longest any
party spent in it (the critical path), not the sum. Gas is the sum over every
transaction a party logged for that round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from flchain.task.spec import DPSpec

# phase name in metrics.jsonl → the event names that measure it
PHASE_EVENTS: dict[str, tuple[str, ...]] = {
    "train": ("trained",),
    "pin": ("pinned",),
    "submit": ("submitted",),
    "score": ("scored",),
    "vote": ("committed", "revealed"),
    "finalise": ("finalized",),
    "aggregate": ("aggregated",),
}


def phase_seconds(events: Iterable[Mapping[str, Any]], round_id: int) -> dict[str, float]:
    """``<phase>_s`` for one round: per party the sum of its events, then the max over parties."""
    per_party: dict[str, dict[tuple[str, int], float]] = {p: {} for p in PHASE_EVENTS}
    event_phase = {e: p for p, names in PHASE_EVENTS.items() for e in names}
    for event in events:
        phase = event_phase.get(str(event.get("event")))
        if phase is None or event.get("round") != round_id:
            continue
        party = (str(event.get("role")), int(event.get("index", -1)))
        seconds = float(event.get("seconds", 0.0))
        per_party[phase][party] = per_party[phase].get(party, 0.0) + seconds
    return {
        f"{phase}_s": round(max(parties.values(), default=0.0), 4)
        for phase, parties in per_party.items()
    }


def gas_for_round(events: Iterable[Mapping[str, Any]], round_id: int) -> int:
    """Gas of every transaction logged for ``round_id``."""
    return sum(int(e.get("gas", 0)) for e in events if e.get("round") == round_id)


def mismatches(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every logged disagreement between a local aggregate and the certified CID."""
    return [e for e in events if e.get("event") == "aggregate_mismatch"]


def decisions_changed(
    events: Iterable[Mapping[str, Any]],
    honest_miners: set[int],
    accepted: Mapping[int, Mapping[int, bool]],
    threshold: int,
) -> int:
    """How many committee decisions differ from what the honest miners alone decided.

    The honest decision on an update is the lower median of the scores the honest
    committee members logged for it, against the acceptance threshold;
    ``accepted[round][index]`` is what the chain decided.
    """
    scores: dict[tuple[int, int], list[int]] = {}
    for e in events:
        if (
            e.get("event") == "scored"
            and e.get("role") == "miner"
            and e.get("index") in honest_miners
        ):
            for i, score in enumerate(e.get("scores") or ()):
                scores.setdefault((int(e["round"]), i), []).append(int(score))
    changed = 0
    for (r, i), values in scores.items():
        if r in accepted and i in accepted[r]:
            ordered = sorted(values)
            honest = ordered[(len(ordered) - 1) // 2] >= threshold
            changed += honest != accepted[r][i]
    return changed


def bytes_summary(
    compression: str, per_round: Sequence[Mapping[str, int]], names: Mapping[str, str]
) -> dict[str, Any]:
    """What the updates cost the store: ``per_round`` holds each round's bytes by client
    address (``names``: address → party name). Means over updates and over rounds."""
    sizes = [n for row in per_round for n in row.values()]
    totals: dict[str, int] = {}
    for row in per_round:
        for address, n in row.items():
            name = names.get(address, address)
            totals[name] = totals.get(name, 0) + n
    return {
        "compression": compression or None,
        "updates": len(sizes),
        "total": sum(sizes),
        "per_update": round(sum(sizes) / len(sizes)) if sizes else 0,
        "per_round": round(sum(sizes) / len(per_round)) if per_round else 0,
        "by_client": dict(sorted(totals.items())),
    }


def dp_summary(
    dp: DPSpec, epsilons: Sequence[Mapping[str, float] | None], names: Mapping[str, str]
) -> dict[str, Any] | None:
    """The DP settings and each client's ε after the last round that reported one, by party
    name (``names``: lower-case address → name); None without DP."""
    if not dp.enabled:
        return None
    last = next((e for e in reversed(epsilons) if e is not None), {})
    return {
        **asdict(dp),
        "epsilon": {names.get(a.lower(), a): eps for a, eps in last.items()},
        "max_epsilon": max(last.values(), default=0.0),
    }
