"""Ctrl-C that a run cannot lose.

Python turns SIGINT into a ``KeyboardInterrupt`` raised in the main thread at
its next bytecode. When that bytecode belongs to a finaliser (a ``__del__``, a
weakref callback run by the garbage collector), the exception is printed as
"ignored" and dropped, and a loop following a task would go on with every
child running. Inside :func:`catch_interrupts` the signal is also recorded, and
the run's waiting loops call :func:`check` on every turn.

A process that inherited SIGINT as ignored (a background job of a script, as
``nohup``-style launchers make) keeps ignoring it, as Python itself does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_received = threading.Event()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _received.set()
    raise KeyboardInterrupt


@contextmanager
def catch_interrupts() -> Iterator[None]:
    """Record SIGINT while the block runs (main thread only, and only where SIGINT is not
    ignored; elsewhere a no-op)."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        yield
        return
    _received.clear()
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
        _received.clear()


def check() -> None:
    """Raise ``KeyboardInterrupt`` if SIGINT arrived, even one whose exception was dropped."""
    if _received.is_set():
        raise KeyboardInterrupt
