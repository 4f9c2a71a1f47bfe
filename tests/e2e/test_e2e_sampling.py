"""Client sampling through real processes: the contract draws which clients train each round,
only they submit, every client (drawn or not) aggregates and verifies, and the audit redraws
each round's sample and verifies the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import (
    accepted_rows,
    assert_exited_cleanly,
    events_of,
    small_run_then_audit,
    verified_report,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TASK = ("--clients", "5", "--miners", "2", "--committee", "2", "--rounds", "3")


def test_only_the_drawn_clients_train_and_everyone_verifies(tmp_path: Path) -> None:
    done, audit = small_run_then_audit(
        tmp_path, "--clients-per-round", "2", "--client-procs", "1", task=TASK
    )
    out = tmp_path / "run"
    assert json.loads((out / "spec.json").read_text())["clients_per_round"] == 2
    rows = accepted_rows(out, rounds=3, accepted=2)
    summary = json.loads(done.stdout)
    assert_exited_cleanly(summary)  # every client's aggregate equalled the certified one
    trained: dict[int, list[int]] = {r: [] for r in range(3)}
    for i in range(5):
        events = events_of(out, f"client-{i}")
        submitted = {e["round"] for e in events if e["event"] == "submitted"}
        skipped = {e["round"] for e in events if e["event"] == "not_sampled"}
        assert submitted.isdisjoint(skipped) and submitted | skipped == {0, 1, 2}
        for r in submitted:
            trained[r].append(i)
    assert all(len(drawn) == 2 for drawn in trained.values())
    assert len({tuple(d) for d in trained.values()}) > 1  # the draw moves with the seed
    report = verified_report(audit)  # includes every submitter being in its round's sample
    finalized = [r for r in report["rounds"] if r["finalized"]]
    assert [r["certified_cid"] for r in finalized] == [row["certified_cid"] for row in rows]
    assert summary["final_accuracy"] > summary["initial_accuracy"] + 0.3
