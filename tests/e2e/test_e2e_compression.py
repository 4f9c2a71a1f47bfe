"""Compression through real processes: clients pin compressed updates, miners decompress and
accept them, every party's aggregate matches, bytes are reported, and the audit verifies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import accepted_rows, assert_exited_cleanly, verified_report

from flchain.chain import testnet
from flchain.chain.node import NodeConfig, free_port
from flchain.storage.local import LocalStore

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _flchain(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "flchain", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=400, check=False)


@pytest.mark.parametrize(
    ("setting", "at_most", "procs"),
    [("topk:0.1", 0.22, "3"), ("q8", 0.27, "1")],  # q8's three clients share one pool process
)
def test_a_compressed_run_pins_fewer_bytes_agrees_everywhere_and_the_audit_verifies(
    tmp_path: Path, setting: str, at_most: float, procs: str
) -> None:
    home, out = tmp_path / "home", tmp_path / "run"
    config = NodeConfig(accounts=40, hardfork="shanghai").with_port(free_port())
    up = testnet.UpOptions(config=config, home=home, deployments=tmp_path / "dep", deploy=False)
    testnet.up(up)
    try:
        done = _flchain(
            "run",
            *("--clients", "3", "--miners", "2", "--committee", "2", "--rounds", "2"),
            *("--compress", setting, "--client-procs", procs),
            *("--home", str(home), "--out", str(out), "--json"),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        audit = _flchain(
            "audit", "--testnet", str(home / testnet.TESTNET_FILE), "--run", str(out), "--json"
        )
    finally:
        testnet.down(home)

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
