"""The deterministic aggregation every party repeats, bit for bit.

The global model of round ``r + 1`` is the task strategy applied to the global
model of round ``r`` and round ``r``'s accepted updates, each identified by
``"<index>:<cid>"`` (the strategy sorts by id, so the order of fetching does not
matter). It is encoded with fixed metadata (round ``r``, the task contract as
author, the architecture id, the parent global CID), so every party obtains
the same bytes and the same CID, which is what committee miners attest and
clients check against the certified CID. A round with no accepted update keeps
the global model (same CID; nothing to certify).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flchain.learning.strategies import ClientUpdate, Strategy, StrategyState
from flchain.storage.builder import compute_cid
from flchain.storage.codec import ModelMeta, encode_weights
from flchain.types import Address, CIDStr, RoundId

Weights = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class AcceptedUpdate:
    """An accepted update, fetched and decoded."""

    index: int
    cid: CIDStr
    num_samples: int
    client: str
    weights: Weights

    @property
    def update_id(self) -> str:
        return f"{self.index:05d}:{self.cid}"


@dataclass(frozen=True)
class GlobalModel:
    """The global model a round trains from, with the strategy's server state."""

    round: int
    cid: CIDStr
    weights: Weights
    state: StrategyState | None = None


@dataclass(frozen=True)
class RoundAggregate:
    """The outcome of aggregating one round: the next global model and its file."""

    model: GlobalModel
    data: bytes | None  # the encoded file; None when nothing was accepted


def aggregate_meta(task: str, arch: str, round_id: int, parent: str) -> ModelMeta:
    """The fixed metadata of round ``round_id``'s aggregate."""
    return ModelMeta(RoundId(round_id), Address(task), arch, CIDStr(parent))


def aggregate_round(
    strategy: Strategy,
    current: GlobalModel,
    accepted: Sequence[AcceptedUpdate],
    *,
    task: str,
    arch: str,
) -> RoundAggregate:
    """Aggregate ``current.round``'s accepted updates into the next global model."""
    if not accepted:
        return RoundAggregate(
            GlobalModel(current.round + 1, current.cid, current.weights, current.state), None
        )
    updates = [
        ClientUpdate(
            update_id=u.update_id,
            weights=dict(u.weights),
            num_samples=u.num_samples,
            client=u.client,
        )
        for u in accepted
    ]
    result = strategy.aggregate(dict(current.weights), updates, current.state)
    data = encode_weights(result.weights, aggregate_meta(task, arch, current.round, current.cid))
    cid = compute_cid(data).encode()
    return RoundAggregate(GlobalModel(current.round + 1, cid, result.weights, result.state), data)
