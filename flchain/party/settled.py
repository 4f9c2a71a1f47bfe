"""Chain reads a pool's clients share: the facts of a round that never change once settled.

A finalized round's accepted updates and a certified aggregate's CID are the
same for every reader, for good. In a pool of a thousand clients each would ask
the node for them when the round ends, all in the same second (a thousand
``eth_getLogs`` over a thousand events each); :class:`PooledPort` asks once per
pool and hands the answer to the others. What is not settled yet (a round still
open, a CID not yet certified) is read afresh every time, as a lone client would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase, Submission
from flchain.party.port import NodePort
from flchain.types import CIDStr

T = TypeVar("T")


class SettledReads:
    """Values read once and kept once settled; one read at a time per key, so clients asking
    together wait for the first one's answer instead of all asking the node."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, Any] = {}
        self._gates: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, read: Callable[[], T], settled: Callable[[T], bool]) -> T:
        """The kept value of ``key``, or ``read()`` (kept when ``settled`` says so)."""
        with self._lock:
            if key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._values:
                    return self._values[key]  # type: ignore[no-any-return]
            value = read()
            if settled(value):
                with self._lock:
                    self._values[key] = value
                    self._gates.pop(key, None)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


class PooledPort(NodePort):
    """:class:`NodePort` of one pooled client, whose settled reads the pool shares."""

    def __init__(self, protocol: ProtocolClient, reads: SettledReads) -> None:
        super().__init__(protocol)
        self.reads = reads

    def accepted_updates(self, round: int) -> list[Submission]:
        def read() -> tuple[bool, list[Submission]]:
            final = self.protocol.phase(round) == Phase.FINALIZED  # asked first: then settled
            return final, self.protocol.accepted_updates(round)

        return list(self.reads.get(("accepted", round), read, lambda v: v[0])[1])

    def certified_aggregate(self, round: int) -> CIDStr | None:
        def read() -> CIDStr | None:
            return self.protocol.certified_aggregate(round)

        return self.reads.get(("certified", round), read, lambda cid: cid is not None)
