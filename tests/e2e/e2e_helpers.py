"""Helpers shared by the end-to-end tests (specs, reading a run's logs and metrics)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from flchain.party.roundlog import read_events
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


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``flchain run`` as a subprocess with its own testnet home under ``tmp_path``."""
    cmd = [sys.executable, "-c", "from flchain.cli import main; main()", "run", *args]
    cmd += ["--home", str(tmp_path / "cli-home"), "--out", str(tmp_path / "cli-run")]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
