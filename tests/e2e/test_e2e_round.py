"""A whole task as OS processes: it completes, learns, and every client agrees with the chain."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from e2e_helpers import events_of, metrics_of, small_spec

from flchain.run.metrics import PHASE_EVENTS
from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_three_rounds_four_clients_three_miners(run_e2e: Callable[..., RunResult]) -> None:
    result = run_e2e(small_spec(clients=4, miners=3, rounds=3))
    summary = json.loads((result.out / "summary.json").read_text())
    rows = metrics_of(result)

    assert [row["round"] for row in rows] == [0, 1, 2]
    for row in rows:
        assert row["accepted"] == 4 and row["rejected"] == 0
        assert row["gas_used"] > 0
        for phase in PHASE_EVENTS:
            assert f"{phase}_s" in row
    accuracies = [row["accuracy"] for row in rows]
    assert summary["initial_accuracy"] < accuracies[0] <= accuracies[-1] + 0.02
    assert summary["final_accuracy"] == accuracies[-1] > 0.8
    assert set(summary["exit_codes"].values()) == {0}
    assert summary["wall_s"] > summary["startup_s"] > 0

    certified = [row["certified_cid"] for row in rows]
    assert all(certified) and len(set(certified)) == 3
    for i in range(4):
        events = events_of(result, f"client-{i}")
        verified = {e["round"]: e["cid"] for e in events if e["event"] == "verified"}
        assert verified == dict(enumerate(certified)), f"client {i}"
        assert not [e for e in events if e["event"] == "aggregate_mismatch"]
    for address, reward in summary["rewards"].items():
        assert reward > 0, address
