"""A whole task as OS processes: it completes, learns, and every client agrees with the chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import events_of, metrics_of, run_cli

from flchain.run.metrics import PHASE_EVENTS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_three_rounds_four_clients_three_miners(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--clients", "4", "--miners", "3", "--rounds", "3", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "cli-run"
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads(done.stdout) == summary
    rows = metrics_of(out)

    assert [row["round"] for row in rows] == [0, 1, 2]
    for row in rows:
        assert row["accepted"] == 4 and row["rejected"] == 0
        assert row["gas_used"] > 0
        for phase in PHASE_EVENTS:
            assert f"{phase}_s" in row
    accuracies = [row["accuracy"] for row in rows]
    assert summary["initial_accuracy"] < accuracies[0] <= accuracies[-1] + 0.02
    assert summary["final_accuracy"] == pytest.approx(accuracies[-1], abs=1e-6)
    assert accuracies[-1] > 0.8
    assert set(summary["exit_codes"].values()) == {0}
    assert summary["aggregate_mismatches"] == []
    assert summary["wall_s"] > summary["startup_s"] > 0

    certified = [row["certified_cid"] for row in rows]
    assert all(certified) and len(set(certified)) == 3
    for i in range(4):
        events = events_of(out, f"client-{i}")
        verified = {e["round"]: e["cid"] for e in events if e["event"] == "verified"}
        assert verified == dict(enumerate(certified)), f"client {i}"
        assert not [e for e in events if e["event"] == "aggregate_mismatch"]
        (claimed,) = [e for e in events if e["event"] == "claimed"]  # one claim, at the end
        assert int(claimed["amount"]) > 0 and claimed["gas"] > 0
    for address, reward in summary["rewards"].items():
        assert reward > 0, address
    assert not (tmp_path / "cli-home" / "testnet.json").exists()  # the run stopped its node
