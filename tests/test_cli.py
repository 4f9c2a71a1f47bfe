"""The console script starts and lists every command group."""

from __future__ import annotations

import subprocess
import sys

from flchain.cli import _COMMAND_MODULES


def test_help_lists_every_command_group() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "flchain", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Usage: flchain" in out.stdout
    assert "federated learning" in out.stdout
    groups = [m.replace("_", "-") for m in _COMMAND_MODULES if m != "party"]
    for group in [*groups, "client", "miner"]:  # the party module registers both roles
        assert group in out.stdout, f"command group {group!r} missing from --help"
