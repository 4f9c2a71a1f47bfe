"""Starting a detached child process: a local node, or one party of a run.

The child gets its own session (a signal to its process group reaches it and its
children only), reads nothing, and writes stdout and stderr, unbuffered, to a log.
"""

from __future__ import annotations

import os
import subprocess
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
