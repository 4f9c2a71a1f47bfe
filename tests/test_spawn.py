"""A child a run started ends by itself when the run is gone without stopping it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

# The "run": starts one child (supervised or not) and waits until it is watching; prints
# the child's pid and dies without stopping it, as a SIGKILLed run would.
RUN = """
import os, sys, time
from flchain.spawn import spawn_detached, supervised_env
ready = sys.argv[2]
child = (
    "import sys, time; from flchain.spawn import watch_supervisor; watch_supervisor(0.05); "
    "open(sys.argv[1], 'w').close(); time.sleep(60)"
)
env = supervised_env() if sys.argv[1] == "supervised" else {}
popen = spawn_detached([sys.executable, "-c", child, ready], open(os.devnull, "wb"), env)
print(popen.pid, flush=True)
deadline = time.monotonic() + 30
while not os.path.exists(ready) and time.monotonic() < deadline:
    time.sleep(0.02)
os._exit(0)
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that does not reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _orphan(mode: str, tmp_path: Path) -> int:
    ready = str(tmp_path / "watching")
    run = subprocess.run(
        [sys.executable, "-c", RUN, mode, ready],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(ready).exists(), "the child never started"
    return int(run.stdout.split()[0])


def test_a_supervised_child_ends_when_its_run_is_gone(tmp_path: Path) -> None:
    pid = _orphan("supervised", tmp_path)
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the child outlived the run that started it"


def test_a_child_nobody_supervises_keeps_running(tmp_path: Path) -> None:
    pid = _orphan("alone", tmp_path)
    try:
        time.sleep(1.0)
        assert _alive(pid)
    finally:
        subprocess.run(["kill", str(pid)], check=False)
