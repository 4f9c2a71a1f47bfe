"""A client that shares its process with others (``flchain client-pool``).

The same :class:`~clients.client.Client`, except that it trains only while it
holds one of the pool's compute slots (``self.compute``, also held while
aggregating), so a pool of many clients trains a few at a time instead of all
at once. A plagiarist does not train: it waits for someone to copy, and holds
no slot while waiting.
"""

from __future__ import annotations

from clients.behaviours import Crafted
from clients.client import Client
from flchain.party.behaviours import ClientBehaviour
from flchain.task.aggregate import GlobalModel


class PooledClient(Client):
    """A client of a pool: trains inside the pool's compute slots."""

    def make_update(self, r: int, model: GlobalModel) -> Crafted:
        if self.behaviour == ClientBehaviour.PLAGIARIST:
            return super().make_update(r, model)
        with self.compute:
            return super().make_update(r, model)
