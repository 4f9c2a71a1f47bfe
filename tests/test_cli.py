"""The console script starts and lists its command groups."""

from __future__ import annotations

import subprocess
import sys


def test_help_runs_and_names_the_program() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from flchain.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "FLchain" in out.stdout
