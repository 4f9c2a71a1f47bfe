"""Children run in their own process groups and are all stopped together."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from flchain.run.procs import ChildSet

SLEEPER = [sys.executable, "-c", "import time, sys; print('up', flush=True); time.sleep(60)"]


def test_crash_is_reported_with_output_and_stop_leaves_no_orphans(tmp_path: Path) -> None:
    with ChildSet(tmp_path) as children:
        sleeper = children.spawn_command("sleeper", SLEEPER)
        crasher = children.spawn_command(
            "crasher", [sys.executable, "-c", "raise SystemExit('boom: bad input')"]
        )
        assert crasher.popen.wait(timeout=30) == 1
        exited = children.newly_exited()
        assert [c.name for c in exited] == ["crasher"]
        assert "boom: bad input" in crasher.tail()
        assert children.newly_exited() == []
        assert os.getpgid(sleeper.pid) == sleeper.pid
        assert [c.name for c in children.running()] == ["sleeper"]
    assert sleeper.returncode == -signal.SIGTERM


def test_sigkill_one_child_and_cli_children_start(tmp_path: Path) -> None:
    with ChildSet(tmp_path) as children:
        victim = children.spawn_command("victim", SLEEPER)
        helper = children.spawn("help", ["--help"])
        children.kill("victim")
        assert victim.popen.wait(timeout=30) == -signal.SIGKILL
        assert helper.popen.wait(timeout=60) == 0
        assert "Usage" in helper.output.read_text()
