"""Helpers shared by the end-to-end tests: specs, faults on cue, a run's logs and metrics."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flchain_cli import run_flchain

from flchain.chain import testnet
from flchain.chain.node import NodeConfig, free_port
from flchain.party.roundlog import read_events
from flchain.run.procs import ChildSet
from flchain.task.spec import TaskSpec


def small_spec(**overrides: Any) -> TaskSpec:
    """A digits task small enough for a few seconds per round on 2 shared cores."""
    base: dict[str, Any] = {
        "dataset": "digits",
        "partition": "iid",
        "seed": 0,
        "arch": "digits-mlp",
        "clients": 4,
        "miners": 3,
        "rounds": 3,
    }
    base.update(overrides)
    return TaskSpec(**base)


def events_of(out: Path, name: str) -> list[dict[str, Any]]:
    """The events child ``name`` logged in run directory ``out``."""
    return read_events(out / "logs" / f"{name}.jsonl")


def metrics_of(out: Path) -> list[dict[str, Any]]:
    """The rows of ``out/metrics.jsonl``."""
    text = (out / "metrics.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def accepted_rows(out: Path, rounds: int, accepted: int) -> list[dict[str, Any]]:
    """The rows of ``out/metrics.jsonl``, checked to be one per round, each accepting
    ``accepted`` updates and rejecting none."""
    rows = metrics_of(out)
    assert [row["round"] for row in rows] == list(range(rounds))
    assert all(row["accepted"] == accepted and row["rejected"] == 0 for row in rows)
    return rows


def assert_exited_cleanly(summary: dict[str, Any]) -> None:
    """Every party of a run (its summary) agreed on each aggregate and exited 0."""
    assert summary["aggregate_mismatches"] == [] and set(summary["exit_codes"].values()) == {0}


SMALL_TASK = ("--clients", "3", "--miners", "2", "--committee", "2", "--rounds", "2")


def learned_and_verified(
    out: Path, summary: dict[str, Any], audit: subprocess.CompletedProcess[str], label: str
) -> dict[str, Any]:
    """A 3-client, 2-round run of a user's task: every update accepted, accuracy rising,
    every party agreeing, and an audit that verifies each certified aggregate; the audit's
    report."""
    rows = accepted_rows(out, rounds=2, accepted=3)
    assert summary["initial_accuracy"] < rows[0]["accuracy"] < rows[1]["accuracy"] + 0.02
    assert_exited_cleanly(summary)
    submitted = [e for e in events_of(out, "client-0") if e["event"] == "submitted"]
    assert len(submitted) == 2
    print(
        f"{label} under flchain: accuracy {summary['initial_accuracy']:.3f} -> "
        f"{[row['accuracy'] for row in rows]}, wall {summary['wall_s']:.1f} s"
    )
    report = verified_report(audit)
    finalized = [r for r in report["rounds"] if r["finalized"]]
    assert [r["certified_cid"] for r in finalized] == [row["certified_cid"] for row in rows]
    assert all(r["aggregate_status"] == "match" for r in finalized)
    return report


def small_run_then_audit(
    tmp_path: Path, *run_args: str, plain_audit: bool = False, task: tuple[str, ...] = SMALL_TASK
) -> tuple[subprocess.CompletedProcess[str], ...]:
    """``flchain run`` of ``task`` (3 clients, 2 miners, committee 2, 2 rounds) plus ``run_args``
    on a testnet of its own, then ``flchain audit --run --json`` (and, with ``plain_audit``, the
    human report) while the node is still up; the run's directory is ``tmp_path/run``."""
    home, out = tmp_path / "home", tmp_path / "run"
    config = NodeConfig(accounts=40, hardfork="shanghai").with_port(free_port())
    up = testnet.UpOptions(config=config, home=home, deployments=tmp_path / "dep", deploy=False)
    testnet.up(up)
    try:
        done = _flchain(
            "run",
            *task,
            *run_args,
            *("--home", str(home), "--out", str(out), "--json"),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        audit = ("audit", "--testnet", str(home / testnet.TESTNET_FILE), "--run", str(out))
        shown = (_flchain(*audit),) if plain_audit else ()
        return (done, _flchain(*audit, "--json"), *shown)
    finally:
        testnet.down(home)


def _flchain(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "flchain", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=400, check=False)


def verified_report(audit: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The report of ``flchain audit --json``, checked to have exited 0 and verified the run
    with no discrepancy."""
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr[-3000:]
    report: dict[str, Any] = json.loads(audit.stdout)
    assert report["verified"] is True and report["discrepancies"] == []
    return report


def scored_events(out: Path, miners: int) -> list[dict[str, Any]]:
    """The ``scored`` events the miners of run ``out`` logged, in miner order."""
    return [
        e for j in range(miners) for e in events_of(out, f"miner-{j}") if e["event"] == "scored"
    ]


def scored_reasons(out: Path, miners: int) -> list[str]:
    """Every reason the miners of run ``out`` logged for a score, in miner order."""
    return [reason for e in scored_events(out, miners) for reason in e["reasons"]]


def rewards_by_behaviour(summary: dict[str, Any]) -> dict[str, list[float]]:
    """The rewards of a run's clients (its summary), grouped by behaviour."""
    clients = [p for n, p in summary["parties"].items() if n.startswith("client")]
    rewards: dict[str, list[float]] = {p["behaviour"]: [] for p in clients}
    for p in clients:
        rewards[p["behaviour"]].append(summary["rewards"][p["address"]])
    return rewards


def when_round_opens(
    children: ChildSet, name: str, round_: int, action: Callable[[], None], timeout: float = 120
) -> None:
    """Call ``action`` (on a thread) once child ``name`` logs that round ``round_`` opened for
    it, or after ``timeout`` seconds if it never does."""
    log = children.children[name].output.parent / f"{name}.jsonl"

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e["event"] == "round_open" and e["round"] == round_ for e in read_events(log)):
                break
            time.sleep(0.01)
        action()

    threading.Thread(target=watch, daemon=True).start()


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``flchain run`` as a subprocess with its own testnet home under ``tmp_path``."""
    home = ["--home", str(tmp_path / "cli-home"), "--out", str(tmp_path / "cli-run")]
    return run_flchain("run", *args, *home, timeout=600)
