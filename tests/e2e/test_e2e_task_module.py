"""A plain-PyTorch task module under ``flchain run --task``: real processes on Anvil, the
module's code certified, audited, and a changed copy refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from e2e_helpers import learned_and_verified
from flchain_cli import run_flchain

from flchain.app.source import locate_task
from flchain.chain import testnet
from flchain.chain.node import NodeConfig, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytorch-task" / "mnist1d_task.py"


def test_a_task_module_runs_is_audited_and_a_changed_copy_is_refused(tmp_path: Path) -> None:
    module = tmp_path / "task" / EXAMPLE.name
    module.parent.mkdir()
    shutil.copy(EXAMPLE, module)
    tampered = tmp_path / "tampered" / EXAMPLE.name
    tampered.parent.mkdir()
    tampered.write_bytes(module.read_bytes().replace(b"LR = 0.005", b"LR = 0.005 ", 1))
    home, out = tmp_path / "home", tmp_path / "run"
    config = NodeConfig(accounts=40, hardfork="shanghai").with_port(free_port())
    up = testnet.UpOptions(config=config, home=home, deployments=tmp_path / "dep", deploy=False)
    testnet.up(up)
    node = str(home / testnet.TESTNET_FILE)
    try:
        done = run_flchain(
            "run",
            "--task",
            module,
            *("--clients", "3", "--miners", "3", "--rounds", "2"),
            *("--home", home, "--out", out, "--json"),
            timeout=900,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        protocol = json.loads((out / "task.json").read_text())["protocol"]
        where = ("--testnet", node, "--task", protocol, "--store", out / "store")
        changed = run_flchain("client", "--index", "0", *where, "--task-module", tampered)
        audit = run_flchain("audit", "--testnet", node, "--run", out, "--json")
    finally:
        testnet.down(home)

    certified = locate_task(module).cid()
    assert changed.returncode == 2
    assert certified in changed.stderr and locate_task(tampered).cid() in changed.stderr
    summary = json.loads(done.stdout)
    assert summary["task_module"] == {"name": "mnist1d_task", "cid": certified}
    spec = json.loads((out / "spec.json").read_text())
    assert spec["task"] == {"name": "mnist1d_task", "cid": certified}
    assert spec["train"]["epochs"] == 2 and spec["train"]["lr"] == 0.005  # the module's
    report = learned_and_verified(out, summary, audit, "pytorch-task")
    assert report["task"]["task_cid"] == certified
    assert report["task"]["task_module"] == "mnist1d_task"
