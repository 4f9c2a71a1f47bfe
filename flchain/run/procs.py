"""Spawning and supervising child processes (clients, miners).

Every child is ``python -c "from flchain.cli import main; main()" ...`` in its
own session (process group), so a Ctrl-C in the terminal reaches only the
orchestrator, which then stops every child itself: SIGTERM to each group, a
grace period, then SIGKILL. Output goes to ``logs/<name>.out``. Torch and BLAS
are limited to one thread per child: the machine's cores are shared.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flchain.spawn import spawn_detached
from flchain.types import Closing

CLI_ENTRY = "from flchain.cli import main; main()"
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes]
    output: Path
    reported: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def tail(self, lines: int = 5) -> str:
        """Last lines of the child's output, for crash reports."""
        try:
            text = self.output.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


class ChildSet(Closing):
    """A group of children that are all stopped together."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, Child] = {}
        self._files: list[IO[bytes]] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        """Start ``flchain <args>`` as child ``name``."""
        return self.spawn_command(name, [sys.executable, "-c", CLI_ENTRY, *args], env)

    def spawn_command(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        """Start any command as child ``name``."""
        if name in self.children:
            raise ValueError(f"a child named {name!r} already exists")
        output = self.log_dir / f"{name}.out"
        out = output.open("ab")
        self._files.append(out)
        popen = spawn_detached(argv, out, {**THREAD_ENV, **(env or {})})
        child = Child(name, argv, popen, output)
        self.children[name] = child
        return child

    def newly_exited(self) -> list[Child]:
        """Children that exited since the last call."""
        done = []
        for child in self.children.values():
            if not child.reported and child.returncode is not None:
                child.reported = True
                done.append(child)
        return done

    def running(self) -> list[Child]:
        return [c for c in self.children.values() if c.returncode is None]

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to one child's process group."""
        _signal_group(self.children[name].popen, sig)

    def wait_all(self, timeout: float) -> bool:
        """Wait until every child has exited; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every running child, then SIGKILL what is left after ``grace``."""
        for child in self.running():
            _signal_group(child.popen, signal.SIGTERM)
        if not self.wait_all(grace):
            for child in self.running():
                _signal_group(child.popen, signal.SIGKILL)
            self.wait_all(grace)
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(timeout=grace)
        for f in self._files:
            f.close()
        self._files.clear()

    def close(self) -> None:
        """Stop every child (leaving a ``with`` block does this)."""
        self.stop()


def _signal_group(popen: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, sig)
