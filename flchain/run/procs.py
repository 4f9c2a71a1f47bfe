"""The process engine: every party host is a child process on this machine.

Every child is ``python -c "from flchain.cli import main; main()" ...`` in its
own session (process group), so a Ctrl-C in the terminal reaches only the
orchestrator, which then stops every child itself: SIGTERM to each group, a
grace period, then SIGKILL. A run killed before it can (SIGKILL) leaves no party
behind either: each watches the run (:func:`flchain.spawn.watch_supervisor`).
Output goes to ``logs/<name>.out``. Torch and BLAS are limited to one thread per
child: the machine's cores are shared.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flchain.run.engine import Child, Engine
from flchain.spawn import spawn_detached, supervised_env

CLI_ENTRY = "from flchain.cli import main; main()"
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass
class ProcessChild(Child):
    """One supervised process (``argv`` is its whole command line)."""

    argv: list[str]
    popen: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()


class ChildSet(Engine):
    """A group of child processes that are all stopped together."""

    def __init__(self, log_dir: Path) -> None:
        super().__init__(log_dir)
        self._files: list[IO[bytes]] = []

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> ProcessChild:
        """Start ``flchain <args>`` as child ``name``."""
        env = {**supervised_env(), **(env or {})}  # a party ends if this run is killed
        return self.spawn_command(name, [sys.executable, "-c", CLI_ENTRY, *args], env, args)

    def spawn_command(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> ProcessChild:
        """Start any command as child ``name`` (``args``: its ``flchain`` arguments, if any)."""
        if name in self.children:
            raise ValueError(f"a child named {name!r} already exists")
        output = self.log_dir / f"{name}.out"
        out = output.open("ab")
        self._files.append(out)
        popen = spawn_detached(argv, out, {**THREAD_ENV, **(env or {})})
        child = ProcessChild(name, args or [], output, argv, popen)
        self._add(child)
        return child

    def _process(self, name: str) -> ProcessChild:
        child = self.children[name]
        assert isinstance(child, ProcessChild)
        return child

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to one child's process group."""
        _signal_group(self._process(name).popen, sig)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every running child, then SIGKILL what is left after ``grace``."""
        children = [self._process(name) for name in self.children]
        for child in children:
            if child.returncode is None:
                _signal_group(child.popen, signal.SIGTERM)
        if not self.wait_all(grace):
            for child in children:
                if child.returncode is None:
                    _signal_group(child.popen, signal.SIGKILL)
            self.wait_all(grace)
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(timeout=grace)
        for f in self._files:
            f.close()
        self._files.clear()


def _signal_group(popen: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, sig)
