"""End-to-end runs: real client and miner processes on a real local chain.

Each test starts its own node (in ``tmp_path``, on a free port) through
``run_task`` and stops it, and every child, when the run ends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from flchain.run.orchestrator import RunOptions, RunResult, run_task
from flchain.run.setup import Phases
from flchain.task.spec import TaskSpec


@pytest.fixture
def run_e2e(tmp_path: Path) -> Callable[..., RunResult]:
    """Run a task with its own testnet under ``tmp_path``; returns the result."""
    counter = iter(range(100))

    def run(spec: TaskSpec, **options: Any) -> RunResult:
        n = next(counter)
        phases = options.pop("phases", Phases(submit=60, commit=30, reveal=20))
        opts = RunOptions(
            spec=spec,
            out=tmp_path / f"run{n}",
            home=tmp_path / f"home{n}",
            node_config=None,
            phases=phases,
            timeout_s=300.0,
            **options,
        )
        return run_task(opts, Console(file=(tmp_path / f"console{n}.txt").open("w")))

    return run
