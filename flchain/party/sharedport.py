"""What the clients of one pool share of the chain: reads, nudges and a cap on sends.

A thousand clients in two pools, each asking the node on its own, bury it: at a
round's end a thousand ``eth_getLogs`` over a thousand events each; while they
wait, hundreds of polls a second and, past a deadline, an empty block mined by
every one of them; when a round opens, a thousand submissions at once. The node
(one process, on the same cores) stops answering within its timeout. Through
:class:`PooledPort` a pool instead

* reads once, for all its clients, what a round settled for good (its accepted
  updates once finalized, its certified CID once certified), and at most once
  per :data:`SHARED_MAX_AGE_S` what is still moving (a round's phase and info);
* mines at most one empty block per :data:`NUDGE_EVERY_S` past a deadline;
* has at most :data:`SENDS_IN_FLIGHT` transactions of its clients in flight.

Every client still signs and sends its own transactions with its own key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase, RoundInfo, Submission, TxResult
from flchain.party.port import NodePort
from flchain.types import CIDStr

T = TypeVar("T")

SHARED_MAX_AGE_S = 0.2
"""How old a pool's shared answer about a round still moving may be."""
NUDGE_EVERY_S = 0.5
"""At most one empty block per this many seconds from a whole pool."""
SENDS_IN_FLIGHT = 8
"""At most this many of a pool's transactions sent and not yet mined."""


class SharedReads:
    """Answers shared by a pool's clients, one read at a time per key (clients asking
    together wait for the first one's answer instead of all asking the node)."""

    def __init__(self, sends_in_flight: int = SENDS_IN_FLIGHT) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._gates: dict[Hashable, threading.Lock] = {}
        self.sends = threading.BoundedSemaphore(sends_in_flight)

    def get(
        self,
        key: Hashable,
        read: Callable[[], T],
        settled: Callable[[T], bool] = lambda _: False,
        max_age: float = 0.0,
    ) -> T:
        """``key``'s answer: kept for good once ``settled``, else reused for ``max_age`` s."""
        fresh = self._kept(key, max_age)
        if fresh is not None:
            return fresh[0]  # type: ignore[no-any-return]
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            fresh = self._kept(key, max_age)
            if fresh is not None:
                return fresh[0]  # type: ignore[no-any-return]
            value = read()
            with self._lock:
                self._values[key] = (float("inf") if settled(value) else time.monotonic(), value)
            return value

    def due(self, key: Hashable, every: float) -> bool:
        """True at most once per ``every`` seconds for ``key`` across the pool."""
        now = time.monotonic()
        with self._lock:
            last = self._values.get(key, (float("-inf"), None))[0]
            if now - last < every:
                return False
            self._values[key] = (now, None)
            return True

    def _kept(self, key: Hashable, max_age: float) -> tuple[Any] | None:
        with self._lock:
            kept = self._values.get(key)
        if kept is None:
            return None
        at, value = kept
        return (value,) if at == float("inf") or time.monotonic() - at <= max_age else None


class PooledPort(NodePort):
    """:class:`NodePort` of one pooled client; what it reads and nudges the pool shares."""

    def __init__(self, protocol: ProtocolClient, shared: SharedReads) -> None:
        super().__init__(protocol)
        self.shared = shared

    def phase(self, round: int) -> Phase:
        return self.round_info(round).phase

    def round_info(self, round: int) -> RoundInfo:
        def read() -> RoundInfo:
            return self.protocol.round_info(round)

        return self.shared.get(("info", round), read, max_age=SHARED_MAX_AGE_S)

    def accepted_updates(self, round: int) -> list[Submission]:
        def read() -> tuple[bool, list[Submission]]:
            final = self.protocol.phase(round) == Phase.FINALIZED  # asked first: then settled
            return final, self.protocol.accepted_updates(round)

        return list(self.shared.get(("accepted", round), read, lambda v: v[0])[1])

    def certified_aggregate(self, round: int) -> CIDStr | None:
        def read() -> CIDStr | None:
            return self.protocol.certified_aggregate(round)

        return self.shared.get(("certified", round), read, lambda cid: cid is not None)

    def register_client(self) -> TxResult:
        with self.shared.sends:
            return super().register_client()

    def submit_update(self, round: int, cid: str, num_samples: int) -> TxResult:
        with self.shared.sends:
            return super().submit_update(round, cid, num_samples)

    def claim(self) -> TxResult:
        with self.shared.sends:
            return super().claim()

    def mine_block(self) -> None:
        if self.shared.due("nudge", NUDGE_EVERY_S):
            super().mine_block()
