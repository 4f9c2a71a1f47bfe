"""A label-flipping client is rejected by the direction signal, through real processes,
and earns less than any honest client; the logged reason names the signal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_helpers import events_of, small_spec

from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_label_flip_is_rejected_by_the_direction_signal(
    run_e2e: Callable[..., RunResult],
) -> None:
    result = run_e2e(small_spec(clients=5, miners=3, rounds=3), malicious="label-flip:1")
    summary = result.summary
    assert summary["rejected_by_behaviour"].get("label-flip", 0) >= 2
    assert summary["rejected_by_behaviour"].get("honest", 0) == 0
    reasons = [
        reason
        for j in range(3)
        for e in events_of(result.out, f"miner-{j}")
        if e["event"] == "scored"
        for reason in e["reasons"]
    ]
    assert any(r.startswith("direction: cosine") for r in reasons)
    clients = {n: p for n, p in summary["parties"].items() if n.startswith("client")}
    rewards = {p["behaviour"]: [] for p in clients.values()}
    for p in clients.values():
        rewards[p["behaviour"]].append(summary["rewards"][p["address"]])
    assert max(rewards["label-flip"]) < min(rewards["honest"])
    assert summary["aggregate_mismatches"] == []
