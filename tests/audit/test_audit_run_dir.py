"""``flchain audit --run DIR`` alone: the run directory says which node and task to read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from audit_helpers import BuiltTask

from flchain.chain.node import free_port

pytestmark = [pytest.mark.xdist_group("audit"), pytest.mark.slow]


def _run_dir(root: Path, built: BuiltTask, rpc_url: str, stops: bool) -> Path:
    """A run directory as ``flchain run`` leaves it: task.json and the store."""
    run = root / "run"
    run.mkdir()
    (run / "store").symlink_to(built.store_dir)
    task = {
        "rpc_url": rpc_url,
        "protocol": built.run.protocol,
        "deployment_block": built.run.block,
        "node_stops_with_run": stops,
    }
    (run / "task.json").write_text(json.dumps(task))
    return run


def _audit_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``flchain audit`` run from ``cwd``, whose .flchain/testnet.json names a dead node."""
    (cwd / ".flchain").mkdir(exist_ok=True)
    dead = {"rpc_url": f"http://127.0.0.1:{free_port()}", "contracts": {}}
    (cwd / ".flchain" / "testnet.json").write_text(json.dumps(dead))
    return subprocess.run(
        [sys.executable, "-m", "flchain", "audit", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_run_alone_reads_the_node_the_run_recorded(clean_task: BuiltTask, tmp_path: Path) -> None:
    run = _run_dir(tmp_path, clean_task, clean_task.node.rpc_url, stops=False)
    done = _audit_in(tmp_path, "--run", str(run), "--json", "--no-rescore")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["verified"] is True and body["discrepancies"] == []
    assert body["task"]["protocol"].lower() == clean_task.run.protocol.lower()


@pytest.mark.parametrize("stops", [True, False])
def test_a_node_that_is_gone_is_named_with_what_to_do(
    clean_task: BuiltTask, tmp_path: Path, stops: bool
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = _run_dir(tmp_path, clean_task, url, stops=stops)
    done = _audit_in(tmp_path, "--run", str(run), "--json")
    assert done.returncode == 2 and done.stdout == ""
    message = done.stderr.strip()
    assert message.startswith(f"error: the node at {url} (recorded in {run / 'task.json'})")
    assert "is not reachable" in message and "no node to read" not in message
    if stops:
        assert "stopped it when it ended" in message and "flchain testnet up --home" in message
    else:
        assert "start that node again, or pass --rpc URL or --testnet FILE" in message
