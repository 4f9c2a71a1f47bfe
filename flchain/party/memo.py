"""One aggregate per round for the clients of a pool.

Every party aggregates the round's accepted updates itself; the clients of a
pool (:mod:`flchain.party.pool`) live in one process and would repeat the very
same computation on the very same inputs once each. :class:`AggregateMemo`
lets the first client of the pool that needs an aggregate compute (and pin)
it, and hands the result to the others, which wait for it instead of
computing it again. The inputs are the key: the round, the global model's CID,
the accepted updates (ids and claimed samples) and the strategy state object
the model carries, so a client whose inputs differ (a restarted one, say)
computes its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future

from flchain.task.aggregate import AcceptedUpdate, GlobalModel, RoundAggregate

CAPACITY = 4
"""Aggregates kept: a pool's clients are at most a round or two apart."""


def aggregate_key(r: int, model: GlobalModel, accepted: Sequence[AcceptedUpdate]) -> Hashable:
    """Everything an aggregate depends on besides the task itself."""
    updates = tuple(sorted((u.update_id, u.num_samples, u.client) for u in accepted))
    return (r, model.cid, updates, id(model.state) if model.state is not None else None)


class AggregateMemo:
    """Aggregates by their inputs, computed once, shared by the clients of one process."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = max(1, capacity)
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Future[RoundAggregate], GlobalModel]] = (
            OrderedDict()
        )

    def get(
        self,
        r: int,
        model: GlobalModel,
        accepted: Sequence[AcceptedUpdate],
        compute: Callable[[], RoundAggregate],
    ) -> tuple[RoundAggregate, bool]:
        """The aggregate of these inputs, and whether this call computed it (the caller then
        pins it). A computation that fails is forgotten, so the next caller tries again."""
        key = aggregate_key(r, model, accepted)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                # the model is kept with its entry, so the id of its state stays unique
                future: Future[RoundAggregate] = Future()
                self._entries[key] = (future, model)
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
        if entry is not None:
            return entry[0].result(), False
        try:
            result = compute()
        except BaseException as exc:
            with self._lock:
                self._entries.pop(key, None)
            future.set_exception(exc)
            raise
        future.set_result(result)
        return result, True
