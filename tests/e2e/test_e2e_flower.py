"""Flower apps under ``flchain run``: real processes on Anvil, the app's code certified."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import (
    assert_exited_cleanly,
    learned_and_verified,
    metrics_of,
    run_cli,
)
from rich.console import Console

from flchain.app.archive import app_cid
from flchain.app.config import AppConfig
from flchain.chain import testnet
from flchain.chain.node import NodeConfig, free_port
from flchain.run.orchestrator import RunOptions, run_task
from flchain.run.procs import ChildSet
from flchain.run.setup import Phases, Task

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _flchain(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "flchain", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_a_message_api_app_runs_is_audited_and_a_changed_copy_is_refused(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLES / "flower-mnist1d", app)
    tampered = tmp_path / "tampered"
    shutil.copytree(app, tampered)
    task_py = tampered / "mnist1d_app" / "task.py"
    task_py.write_bytes(task_py.read_bytes().replace(b"lr=lr", b"lr=lr ", 1))
    home, out = tmp_path / "home", tmp_path / "run"
    config = NodeConfig(accounts=40, hardfork="shanghai").with_port(free_port())
    up = testnet.UpOptions(config=config, home=home, deployments=tmp_path / "dep", deploy=False)
    testnet.up(up)
    refused: list[subprocess.CompletedProcess[str]] = []

    def start_a_changed_copy(children: ChildSet, task: Task) -> None:
        where = ["--testnet", str(home / testnet.TESTNET_FILE), "--task", task.protocol]
        refused.append(
            _flchain(
                "client",
                "--index",
                "0",
                *where,
                "--store",
                str(out / "store"),
                "--app",
                str(tampered),
            )
        )

    try:
        options = RunOptions(
            spec=AppConfig.load(app).task_spec(""),
            out=out,
            home=home,
            node_config=None,
            phases=Phases(submit=90, commit=30, reveal=20),
            timeout_s=400.0,
            app=app,
            on_started=start_a_changed_copy,
        )
        result = run_task(options, Console(file=(tmp_path / "console.txt").open("w")))
        audit = _flchain(
            "audit", "--testnet", str(home / testnet.TESTNET_FILE), "--run", str(out), "--json"
        )
    finally:
        testnet.down(home)

    certified = app_cid(app)
    (changed,) = refused
    assert changed.returncode == 2
    assert certified in changed.stderr and app_cid(tampered) in changed.stderr
    summary = result.summary
    assert summary["app_cid"] == certified
    assert json.loads((out / "spec.json").read_text())["app"] == certified
    report = learned_and_verified(out, summary, audit, "flower-mnist1d")
    assert report["task"]["app_cid"] == certified


def test_a_legacy_numpy_client_app_runs_unchanged(tmp_path: Path) -> None:
    app = EXAMPLES / "flower-legacy"
    done = run_cli(
        tmp_path, "--app", str(app), "--clients", "3", "--miners", "2", "--rounds", "2", "--json"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    rows = metrics_of(tmp_path / "cli-run")
    assert [row["round"] for row in rows] == [0, 1]
    assert all(row["accepted"] == 3 for row in rows)
    assert summary["initial_accuracy"] < rows[0]["accuracy"] < rows[1]["accuracy"] + 0.02
    assert summary["app_cid"] == app_cid(app)
    assert_exited_cleanly(summary)
    print(
        f"flower-legacy under flchain: accuracy {summary['initial_accuracy']:.3f} -> "
        f"{[row['accuracy'] for row in rows]}, wall {summary['wall_s']:.1f} s"
    )
