"""A client that shares its process with others (``flchain client-pool``).

The same :class:`~clients.client.Client`, except that it makes its update on
the pool's few compute threads (``self.workers``, where it also aggregates), so
a pool of many clients trains a few at a time instead of all at once, and
torch's per-thread state exists on those few threads only, not on every
client's. A plagiarist does not train: it waits for someone to copy, on its
own thread.
"""

from __future__ import annotations

from clients.behaviours import Crafted
from clients.client import Client
from flchain.party.behaviours import ClientBehaviour
from flchain.task.aggregate import GlobalModel


class PooledClient(Client):
    """A client of a pool: trains on the pool's compute threads."""

    def make_update(self, r: int, model: GlobalModel) -> Crafted:
        make = super().make_update
        if self.behaviour == ClientBehaviour.PLAGIARIST:
            return make(r, model)
        return self.on_compute(lambda: make(r, model))
