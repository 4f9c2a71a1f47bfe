"""Compression through real processes: clients pin compressed updates, miners decompress and
accept them, every party's aggregate matches, bytes are reported, and the audit verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import accepted_rows, assert_exited_cleanly, small_run_then_audit, verified_report

from flchain.storage.local import LocalStore

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize(
    ("setting", "at_most", "procs"),
    [("topk:0.1", 0.22, "3"), ("q8", 0.27, "1")],  # q8's three clients share one pool process
)
def test_a_compressed_run_pins_fewer_bytes_agrees_everywhere_and_the_audit_verifies(
    tmp_path: Path, setting: str, at_most: float, procs: str
) -> None:
    done, audit = small_run_then_audit(tmp_path, "--compress", setting, "--client-procs", procs)
    out = tmp_path / "run"
    assert json.loads((out / "spec.json").read_text())["compression"] == setting
    rows = accepted_rows(out, rounds=2, accepted=3)
    summary = json.loads(done.stdout)
    # a whole model's file (digits-mlp: 9,610 float32 values), as an uncompressed update is
    plain = LocalStore(out / "store").stat(summary["task"]["initial_model_cid"]).size
    assert_exited_cleanly(summary)  # every client's aggregate equalled the certified one
    assert ("clients-0-2" in summary["exit_codes"]) == (procs == "1")
    for row in rows:
        sizes = list(row["bytes_pinned"].values())
        assert len(sizes) == 3 and all(0 < n <= at_most * plain for n in sizes)
        assert row["bytes_round"] == sum(sizes)
    spent = summary["bytes_pinned"]
    assert spent["compression"] == setting and spent["updates"] == 6
    assert spent["total"] == sum(row["bytes_round"] for row in rows)
    assert set(spent["by_client"]) == {"client-0", "client-1", "client-2"}
    assert summary["final_accuracy"] > summary["initial_accuracy"] + 0.5
    ratio = spent["per_update"] / plain
    print(f"{setting}: {spent['per_update']} B per update ({ratio:.3f} of plain)")
    report = verified_report(audit)  # fetched, decompressed, re-scored, re-aggregated: all match
    assert all(r["aggregate_status"] == "match" for r in report["rounds"] if r["finalized"])
