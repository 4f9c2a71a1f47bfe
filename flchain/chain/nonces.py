"""Nonces for many local accounts, safe across threads.

Each account has its own lock; a sender holds it from taking a nonce until the
node has accepted (or refused) the signed transaction, so an account's nonces
are handed out without gaps, while different accounts proceed in parallel.
After a refusal the account's counter is forgotten and refetched from the node.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from flchain.types import Address


class NonceManager:
    """The next nonce of each account, fetched once from the node then counted locally."""

    def __init__(self, fetch: Callable[[Address], int]) -> None:
        self._fetch = fetch
        self._next: dict[Address, int] = {}
        self._locks: dict[Address, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, senders: Iterable[Address]) -> Iterator[NonceManager]:
        """Lock ``senders`` (in a fixed order, so two holders cannot deadlock)."""
        locks = [self._lock_of(a) for a in sorted(set(senders))]
        for lock in locks:
            lock.acquire()
        try:
            yield self
        finally:
            for lock in reversed(locks):
                lock.release()

    def take(self, sender: Address) -> int:
        """The next nonce of ``sender``; call only while holding ``sender``."""
        nonce = self._next.get(sender)
        if nonce is None:
            nonce = self._fetch(sender)
        self._next[sender] = nonce + 1
        return nonce

    def forget(self, sender: Address) -> None:
        """Refetch ``sender``'s nonce next time (after a refused transaction)."""
        self._next.pop(sender, None)

    def resync(self) -> None:
        """Forget every account's counter (after ``evm_revert`` or a node restart)."""
        with self._guard:
            senders = list(self._locks)
        with self.hold(senders):
            self._next.clear()

    def _lock_of(self, sender: Address) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sender, threading.Lock())
