"""``flchain run --app`` with a broken app stops at once with the app's error, before any node."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app_helpers import write_app
from task_helpers import write_task


def _run_stops_before_a_node(tmp_path: Path, *program: str) -> str:
    """``flchain run *program`` fails with status 2 before it starts a node; its message."""
    home = tmp_path / "home"
    out = ("--out", str(tmp_path / "run"))
    done = subprocess.run(
        [sys.executable, "-m", "flchain", "run", *program, "--home", str(home), *out],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert not (home / "testnet.json").exists()
    return " ".join(done.stdout.split())  # the console wraps long lines


def test_a_broken_app_stops_the_run_before_it_starts_a_node(tmp_path: Path) -> None:
    root = write_app(tmp_path, "import not_a_module_anywhere\n")
    message = _run_stops_before_a_node(tmp_path, "--app", str(root))
    assert "cannot import clientapp module" in message and "not_a_module_anywhere" in message


def test_a_task_module_without_load_partition_stops_the_run_before_it_starts_a_node(
    tmp_path: Path,
) -> None:
    module = write_task(tmp_path, data="")
    message = _run_stops_before_a_node(tmp_path, "--task", str(module))
    assert f"task module {module.stem} has no load_partition()" in message
