"""Model poisoning: pure functions of (global weights, honest local weights, rng).

* ``signflip``: ``global − 10·(local − global)``, a reversed and enlarged update;
* ``noise``: ``global + N(0, σ²)`` per value (σ = 1), a large random update;
* ``free-rider``: the global model unchanged (claims credit, adds nothing);
* ``boost``: ``global + 10·(local − global)``, an honest direction at ten times
  its size (a model-replacement style amplification);
* ``shrink``: ``global + 0.1·(local − global)``: harmless by construction, a
  control that tests a rule does not punish small honest steps.

Every result is computed in float64 and rounded once to float32.
"""

from __future__ import annotations

import numpy as np

from flchain.learning.weights import is_float
from flchain.types import Weights

SIGNFLIP_SCALE = -10.0
BOOST_FACTOR = 10.0
SHRINK_FACTOR = 0.1


def scaled_update(global_weights: Weights, local: Weights, factor: float) -> Weights:
    """``global + factor·(local − global)``, in float64, rounded to float32 (integer
    buffers as ``local`` has them)."""
    out: Weights = {}
    for k, g in global_weights.items():
        if not is_float(g):
            out[k] = local[k].copy()
            continue
        g64 = g.astype(np.float64)
        out[k] = (g64 + factor * (local[k].astype(np.float64) - g64)).astype(np.float32)
    return out


def signflip(
    global_weights: Weights,
    local: Weights,
    rng: np.random.Generator | None = None,
    scale: float = SIGNFLIP_SCALE,
) -> Weights:
    """``global + scale·(local − global)`` with ``scale = −10``."""
    return scaled_update(global_weights, local, scale)


def boost(
    global_weights: Weights,
    local: Weights,
    rng: np.random.Generator | None = None,
    factor: float = BOOST_FACTOR,
) -> Weights:
    """The honest update multiplied by ``factor`` (10)."""
    return scaled_update(global_weights, local, factor)


def shrink(
    global_weights: Weights,
    local: Weights,
    rng: np.random.Generator | None = None,
    factor: float = SHRINK_FACTOR,
) -> Weights:
    """The honest update multiplied by ``factor`` (0.1): harmless, a control."""
    return scaled_update(global_weights, local, factor)


def noise(
    global_weights: Weights,
    local: Weights,
    rng: np.random.Generator | None = None,
    std: float = 1.0,
) -> Weights:
    """``global`` plus Gaussian noise of standard deviation ``std`` on every float value."""
    gen = rng if rng is not None else np.random.default_rng(0)
    return {
        k: (g.astype(np.float64) + gen.normal(0.0, std, size=g.shape)).astype(np.float32)
        if is_float(g)
        else g.copy()
        for k, g in global_weights.items()
    }


def free_rider(
    global_weights: Weights, local: Weights, rng: np.random.Generator | None = None
) -> Weights:
    """The global model, unchanged."""
    return {k: g.copy() for k, g in global_weights.items()}


INFLATED_SAMPLES = 10**6


def inflate(num_samples: int, claimed: int = INFLATED_SAMPLES) -> int:
    """A claim attack: the honest weights, but ``claimed`` training samples (10⁶) declared."""
    return max(int(claimed), num_samples)
