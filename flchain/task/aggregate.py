"""The deterministic aggregation every party repeats, bit for bit.

The global model of round ``r + 1`` is the task strategy applied to the global
model of round ``r`` and round ``r``'s accepted updates, each identified by
``"<index>:<cid>"`` (the strategy sorts by id, so the order of fetching does not
matter). It is encoded with fixed metadata (round ``r``, the task contract as
author, the architecture id, the parent global CID), so every party obtains
the same bytes and the same CID, which is what committee miners attest and
clients check against the certified CID. A round with no accepted update keeps
the global model (same CID; nothing to certify).

Two bounds apply before the strategy sees the updates, so that whatever slips
past the committee moves the model no more than an honest update could:

* a claimed sample count is a claim: its weight is at most the task's
  ``sample_cap`` and at most twice the round's median (bounded) claim
  (:func:`bounded_samples`);
* each accepted change is clipped to the round's median change size
  (:func:`clip_to_median`, when the task's ``clip_updates`` is on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flchain.learning.strategies import ClientUpdate, Strategy, StrategyState
from flchain.learning.weights import is_float
from flchain.storage.builder import compute_cid
from flchain.storage.codec import ModelMeta, encode_weights
from flchain.task.signals import flat_delta, median, norm
from flchain.task.spec import TaskSpec
from flchain.types import Address, CIDStr, RoundId, Weights

MEDIAN_CLAIM_FACTOR = 2
"""No update weighs more than this many times the round's median claimed sample count."""


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


def bounded_samples(claims: Sequence[int], cap: int) -> list[int]:
    """Each claim bounded by ``cap`` (0: none) and by twice the round's lower-median claim."""
    cap = cap or 2**32 - 1
    capped = [max(0, min(int(c), cap)) for c in claims]
    if not capped:
        return []
    ordered = sorted(capped)
    ceiling = MEDIAN_CLAIM_FACTOR * ordered[(len(ordered) - 1) // 2]
    return [min(c, ceiling) for c in capped]


def clip_to_median(global_weights: Weights, updates: Sequence[Weights]) -> list[Weights]:
    """Scale every change larger than the median change size down to it (float64 maths);
    integer buffers are kept as sent."""
    deltas = [flat_delta(u, global_weights) for u in updates]
    sizes = [norm(d) for d in deltas]
    bound = median(sizes)
    out: list[Weights] = []
    for u, size in zip(updates, sizes, strict=True):
        if size <= bound or size == 0:
            out.append(u)
            continue
        scale = bound / size
        out.append(
            {
                k: (g.astype(np.float64) + scale * (u[k].astype(np.float64) - g)).astype(np.float32)
                if is_float(g)
                else u[k]
                for k, g in global_weights.items()
            }
        )
    return out


def aggregate_meta(task: str, arch: str, round_id: int, parent: str) -> ModelMeta:
    """The fixed metadata of round ``round_id``'s aggregate."""
    return ModelMeta(RoundId(round_id), Address(task), arch, CIDStr(parent))


def aggregate_round(
    strategy: Strategy,
    current: GlobalModel,
    accepted: Sequence[AcceptedUpdate],
    *,
    task: str,
    spec: TaskSpec,
) -> RoundAggregate:
    """Aggregate ``current.round``'s accepted updates into the next global model,
    by ``spec``'s architecture, sample cap and clipping rule."""
    if not accepted:
        return RoundAggregate(
            GlobalModel(current.round + 1, current.cid, current.weights, current.state), None
        )
    ordered = sorted(accepted, key=lambda u: u.update_id)
    samples = bounded_samples([u.num_samples for u in ordered], spec.sample_cap)
    weights = [u.weights for u in ordered]
    if spec.clip_updates:
        weights = clip_to_median(current.weights, weights)
    updates = [
        ClientUpdate(update_id=u.update_id, weights=dict(w), num_samples=n, client=u.client)
        for u, w, n in zip(ordered, weights, samples, strict=True)
    ]
    result = strategy.aggregate(dict(current.weights), updates, current.state)
    data = encode_weights(
        result.weights, aggregate_meta(task, spec.arch, current.round, current.cid)
    )
    cid = compute_cid(data).encode()
    return RoundAggregate(GlobalModel(current.round + 1, cid, result.weights, result.state), data)
