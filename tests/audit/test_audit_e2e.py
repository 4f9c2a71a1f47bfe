"""Auditing the output of a real ``flchain run``: client and miner processes on Anvil."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from flchain.chain import testnet
from flchain.chain.node import NodeConfig, free_port
from flchain.run.orchestrator import RunOptions, run_task
from flchain.run.setup import Phases
from flchain.task.spec import TaskSpec

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_audit_of_a_real_run_verifies_and_shows_the_free_rider(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = NodeConfig(accounts=40, hardfork="shanghai").with_port(free_port())
    options = testnet.UpOptions(
        config=config, home=home, deployments=tmp_path / "deployments", deploy=False
    )
    testnet.up(options)
    try:
        spec = TaskSpec(dataset="digits", arch="digits-mlp", clients=3, miners=3, rounds=2)
        out = tmp_path / "run"
        run = RunOptions(
            spec=spec,
            out=out,
            home=home,
            node_config=None,
            malicious="free-rider:1",
            phases=Phases(submit=60, commit=30, reveal=20),
            timeout_s=300.0,
        )
        result = run_task(run, Console(file=(tmp_path / "console.txt").open("w")))
        assert len(result.reports) == 2
        recorded = json.loads((out / "task.json").read_text())
        assert recorded["node_stops_with_run"] is False  # the node was up before the run
        assert recorded["rpc_url"] == testnet.TestnetInfo.load(home / testnet.TESTNET_FILE).rpc_url

        report_html = tmp_path / "audit.html"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "flchain",
                "audit",
                "--run",
                str(out),
                "--json",
                "--html",
                str(report_html),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,  # no default testnet file: --run alone names the node
        )
    finally:
        testnet.down(home)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    body = json.loads(done.stdout)
    assert body["verified"] is True and body["discrepancies"] == []
    rounds = [r for r in body["rounds"] if r["finalized"]]
    assert len(rounds) == 2
    certified = [r.certified_cid for r in result.reports]
    assert [r["certified_cid"] for r in rounds] == certified
    assert all(r["cid_ok"] and r["aggregate_status"] == "match" for r in rounds)
    parties = result.summary["parties"]
    rider = next(p["address"] for p in parties.values() if p["behaviour"] == "free-rider")
    for r in rounds:
        (row,) = [u for u in r["updates"] if u["client"] == rider]
        assert row["accepted"] is False and row["recomputed_accepted"] is False
        assert row["auditor_reason"].startswith("free-riding")
    assert 'id="plot-accuracy"' in report_html.read_text()
