"""Children run in their own process groups, are all stopped together, and host the clients."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from flchain.exceptions import ConfigError
from flchain.run.orchestrator import POOL_THRESHOLD, client_groups
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


def test_clients_are_split_into_contiguous_groups() -> None:
    assert client_groups(5, None) == [range(i, i + 1) for i in range(5)]
    assert client_groups(20, 2) == [range(0, 10), range(10, 20)]
    assert [len(g) for g in client_groups(10, 3)] == [3, 3, 4]
    assert client_groups(3, 8) == [range(0, 1), range(1, 2), range(2, 3)]
    groups = client_groups(POOL_THRESHOLD + 1, None)
    assert len(groups) < POOL_THRESHOLD + 1
    assert [i for g in groups for i in g] == list(range(POOL_THRESHOLD + 1))
    assert len(client_groups(POOL_THRESHOLD + 4, None, cores=3)) == 3  # one pool per engine core
    with pytest.raises(ConfigError, match="client-procs"):
        client_groups(4, 0)
