"""A party host inside a Ray actor: ``flchain <args>`` in the actor's own worker process.

The actor calls the entry point a child process runs (``flchain.cli.main``, with
``sys.argv`` set as the process would have it), in its own process: a pool on
Ray *is* ``flchain client-pool``, a miner *is* ``flchain miner``, nothing else
drives them. Running the command in-process rather than as a child of the actor
keeps the actor and the party one process: killing the actor ends the party,
and a party that dies takes the actor with it, so Ray's view and the run's agree.

Ray gives each actor a worker process of its own and runs a synchronous actor's
methods on that process's main thread, so the party installs its SIGTERM handler
and sets its resource limits as in a process. The environment (one thread for
torch and BLAS) is set before anything imports torch. File descriptors 1 and 2
are pointed at ``logs/<name>.out`` (appending), as a child process's are: the
run directory must be at the same path on the node the actor runs on (shared
storage on a cluster; on one machine it is).

This module imports nothing of Ray: the engine wraps :class:`PartyHost` with
``ray.remote``.
"""

from __future__ import annotations

import io
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any


class PartyHost:
    """One party host (a client, a client pool or a miner) as the body of a Ray actor."""

    def __init__(self, env: dict[str, str]) -> None:
        os.environ.update(env)

    def where(self) -> dict[str, Any]:
        """The actor's process id and the node's host name."""
        return {"pid": os.getpid(), "host": socket.gethostname()}

    def run(self, args: list[str], output: str) -> int:
        """Run ``flchain <args>`` to its end, its output appended to ``output``: the exit status
        a process running the same command would have had."""
        folder = Path(output).parent
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{folder} does not exist on {socket.gethostname()}: the run directory must be "
                "at the same path on every node (shared storage)"
            )
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(line_buffering=True)
        sys.argv = ["flchain", *args]
        try:
            from flchain.cli import main

            main()
        except SystemExit as exc:
            return exit_status(exc.code)
        except BaseException:  # as the interpreter does: the traceback, then status 1
            traceback.print_exc()
            return 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
        return 0


def exit_status(code: object) -> int:
    """The status ``SystemExit(code)`` ends a process with (a message is printed, then 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
