"""Ctrl-C on ``flchain run`` stops every child and the node it started; a run killed
outright leaves no party running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def _start_run(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, Path]:
    """``flchain run`` of a long task, once two rounds are done: the process, its run
    directory and its testnet home."""
    out, home = tmp_path / "run", tmp_path / "home"
    cmd = [sys.executable, "-c", "from flchain.cli import main; main()", "run"]
    cmd += ["--clients", "2", "--miners", "1", "--rounds", "1000", "--out", str(out)]
    cmd += ["--home", str(home)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # as from a terminal: the test process may have inherited SIGINT as ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 180
    metrics = out / "metrics.jsonl"
    while not (metrics.exists() and metrics.read_text().count("\n") >= 2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            output = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"no two rounds finished (status {proc.poll()}): {output[-2000:]}")
        time.sleep(0.2)
    assert len(_processes_mentioning(str(out / "logs"))) == 3
    return proc, out, home


def test_sigint_stops_every_child_and_the_node(tmp_path: Path) -> None:
    proc, out, home = _start_run(tmp_path)
    try:
        node_pid = int(json.loads((home / "testnet.json").read_text())["pid"])
        os.kill(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, output[-2000:]
    assert "interrupted" in output
    assert _processes_mentioning(str(out / "logs")) == []
    assert not (home / "testnet.json").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(node_pid, 0)


def test_a_killed_run_leaves_no_party_behind(tmp_path: Path) -> None:
    proc, out, home = _start_run(tmp_path)
    node_pid = int(json.loads((home / "testnet.json").read_text())["pid"])
    try:
        proc.kill()  # SIGKILL: the run cannot stop its children itself
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _processes_mentioning(str(out / "logs")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_mentioning(str(out / "logs")) == []
    finally:
        for pid in [*_processes_mentioning(str(out / "logs")), node_pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
