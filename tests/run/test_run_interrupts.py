"""Ctrl-C during a run is recorded, so a KeyboardInterrupt dropped by a finaliser is not lost."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from flchain.run.interrupts import catch_interrupts, check


@pytest.fixture(autouse=True)
def _sigint_as_python_installs_it() -> Iterator[None]:
    """The test process may have inherited SIGINT as ignored (a background job)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


class _SignalsInItsFinaliser:
    """Sends SIGINT to this process from ``__del__``: Python runs the handler inside the
    finaliser, prints the KeyboardInterrupt as ignored and drops it."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10_000):  # the handler runs at one of these bytecodes
            pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_a_finaliser_dropped_is_still_seen() -> None:
    with catch_interrupts():
        _SignalsInItsFinaliser()  # dropped at once: its KeyboardInterrupt is swallowed
        with pytest.raises(KeyboardInterrupt):
            check()
    check()  # outside the block nothing is pending
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_still_raises_where_it_lands() -> None:
    with pytest.raises(KeyboardInterrupt), catch_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10_000):
            pass
    check()


def test_outside_the_main_thread_it_changes_nothing() -> None:
    seen: list[object] = []

    def body() -> None:
        with catch_interrupts():
            seen.append(signal.getsignal(signal.SIGINT))
        check()

    worker = threading.Thread(target=body)
    worker.start()
    worker.join()
    assert seen == [signal.default_int_handler]


def test_an_ignored_sigint_stays_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with catch_interrupts():
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10_000):
            pass
        check()
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
