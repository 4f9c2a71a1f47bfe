"""The same task run twice with the same seed certifies the same CIDs, round for round."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_helpers import metrics_of, run_cli, small_spec

from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_same_seed_same_certified_cids(run_e2e: Callable[..., RunResult], tmp_path: Path) -> None:
    first = run_e2e(small_spec(clients=3, miners=3, rounds=2, seed=7))
    cids = [r.certified_cid for r in first.reports]
    assert len(cids) == 2 and all(cids)
    # the second run goes through the command line, with its human output
    done = run_cli(tmp_path, "--clients", "3", "--miners", "3", "--rounds", "2", "--seed", "7")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "final accuracy" in done.stdout and "FLchain rounds" in done.stdout
    out = tmp_path / "cli-run"
    assert [row["certified_cid"] for row in metrics_of(out)] == cids
    second = json.loads((out / "summary.json").read_text())
    assert second["task"]["spec_cid"] == first.summary["task"]["spec_cid"]
    assert second["final_accuracy"] == first.summary["final_accuracy"]
