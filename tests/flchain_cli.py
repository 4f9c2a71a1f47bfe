"""The ``flchain`` console script as a user runs it: a fresh interpreter, real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-c", "from flchain.cli import main; main()"]


def run_flchain(
    *args: str | Path, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``flchain ARGS``: its exit status and output (a failing command does not raise)."""
    return subprocess.run(
        [*CLI, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
