"""Starting a detached child process: a local node, or one party of a run.

The child gets its own session (a signal to its process group reaches it and its
children only), reads nothing, and writes stdout and stderr, unbuffered, to a log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO


def spawn_detached(
    argv: Sequence[str], log: IO[bytes], env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` logging to ``log``, with ``env`` added to this process's environment."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


SUPERVISOR_ENV = "FLCHAIN_SUPERVISOR"
"""Set by ``flchain run`` in each party it starts: the run's process id."""


def supervised_env() -> dict[str, str]:
    """What a supervised child's environment gets: this process as its supervisor."""
    return {SUPERVISOR_ENV: str(os.getpid())}


def watch_supervisor(poll_s: float = 1.0) -> None:
    """In a child a run started: SIGTERM this process once the run is gone.

    A run stops its children itself; this covers a run that could not (killed by
    SIGKILL, or the machine's OOM killer), which would otherwise leave every
    party running to the end of the task. A no-op in a process nobody supervises
    (and in one whose parent is not the supervisor named, such as a grandchild).
    """
    named = os.environ.get(SUPERVISOR_ENV, "")
    supervisor = int(named) if named.isdecimal() else None
    if supervisor is None or os.getppid() != supervisor:
        return

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()
