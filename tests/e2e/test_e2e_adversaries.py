"""Proof-of-quality rejects a free-rider and a noise client every round; they earn nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_helpers import events_of, small_spec

from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_free_rider_and_noise_are_rejected_every_round(
    run_e2e: Callable[..., RunResult],
) -> None:
    result = run_e2e(small_spec(clients=5, miners=3, rounds=3), malicious="free-rider:1,noise:1")
    summary = result.summary
    parties = summary["parties"]
    behaviour = {p["address"]: p["behaviour"] for p in parties.values()}
    assert sorted(behaviour[a] for a in behaviour if behaviour[a] != "honest") == [
        "free-rider",
        "noise",
    ]
    assert len(result.reports) == 3
    for report in result.reports:
        assert report.outcome is not None
        for update in report.outcome.updates:
            honest = behaviour[update.client] == "honest"
            assert update.accepted == honest, (report.round, behaviour[update.client])
    assert summary["rejected_by_behaviour"] == {"free-rider": 3, "noise": 3}
    assert summary["accepted_by_behaviour"] == {"honest": 9}
    clients = {n: p for n, p in parties.items() if n.startswith("client")}
    for name, party in clients.items():
        reward = summary["rewards"][party["address"]]
        if party["behaviour"] == "honest":
            assert reward > 0, name
        else:
            assert reward == 0, name
    reasons = [
        reason
        for j in range(3)
        for e in events_of(result.out, f"miner-{j}")
        if e["event"] == "scored"
        for reason in e["reasons"]
    ]
    assert any("free-riding" in r for r in reasons)
    # noise is caught by its size: far above the round's median change
    assert any(r.startswith("norm") for r in reasons if "free-riding" not in r)
