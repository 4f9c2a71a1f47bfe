"""Model weights as plain NumPy: the currency between training and aggregation.

``Weights`` is a ``dict[str, np.ndarray]`` of float32 arrays keyed by the names
of a torch ``state_dict``. Training converts to and from torch; every strategy,
attack, privacy and compression routine works on ``Weights`` only, so the maths
stays pure and the same bytes come out on every machine.

Flattening always visits keys in sorted order, so a flat vector means the same
thing in every process. Importing this module does not load torch (the
aggregation maths must stay light); :func:`get_weights` and :func:`set_weights`
import it when called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from flchain.exceptions import AggregationError
from flchain.types import Weights

if TYPE_CHECKING:
    import torch


def get_weights(model: torch.nn.Module) -> Weights:
    """Copy a model's parameters and buffers out as float32 NumPy arrays."""
    return {
        name: tensor.detach().cpu().numpy().astype(np.float32, copy=True)
        for name, tensor in model.state_dict().items()
        if tensor.is_floating_point()
    }


def set_weights(model: torch.nn.Module, weights: Mapping[str, np.ndarray]) -> None:
    """Load ``weights`` into ``model`` in place; names and shapes must match exactly."""
    import torch

    state = model.state_dict()
    floating = {k for k, v in state.items() if v.is_floating_point()}
    missing = floating - weights.keys()
    extra = weights.keys() - floating
    if missing or extra:
        raise AggregationError(
            f"weights do not fit the model: missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    new_state = {}
    for name, tensor in state.items():
        if name not in floating:
            new_state[name] = tensor
            continue
        array = np.asarray(weights[name])
        if tuple(array.shape) != tuple(tensor.shape):
            raise AggregationError(
                f"weight {name!r} has shape {array.shape}, model expects {tuple(tensor.shape)}"
            )
        data = np.ascontiguousarray(array, dtype=np.float32)
        if not data.flags.writeable:  # shared read-only (a pool's updates): torch wants its own
            data = data.copy()
        new_state[name] = torch.from_numpy(data).to(device=tensor.device, dtype=tensor.dtype)
    model.load_state_dict(new_state)


def flatten(weights: Mapping[str, np.ndarray], dtype: type = np.float64) -> np.ndarray:
    """Concatenate all arrays (keys in sorted order) into one 1-D vector of ``dtype``."""
    if not weights:
        return np.zeros(0, dtype=dtype)
    return np.concatenate([np.asarray(weights[k], dtype=dtype).ravel() for k in sorted(weights)])


def unflatten(vector: np.ndarray, like: Mapping[str, np.ndarray]) -> Weights:
    """Split a flat vector back into float32 arrays shaped like ``like``."""
    total = sum(int(np.prod(like[k].shape)) for k in like)
    if vector.ndim != 1 or vector.size != total:
        raise AggregationError(f"flat vector has {vector.size} values, expected {total}")
    out: Weights = {}
    offset = 0
    for key in sorted(like):
        shape = like[key].shape
        size = int(np.prod(shape))
        out[key] = vector[offset : offset + size].astype(np.float32).reshape(shape)
        offset += size
    return out


def num_parameters(weights: Mapping[str, np.ndarray]) -> int:
    """Total number of scalar values."""
    return sum(int(np.asarray(v).size) for v in weights.values())


def check_compatible(
    reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray], what: str
) -> None:
    """Raise :class:`AggregationError` unless ``other`` has the keys and shapes of ``reference``."""
    if reference.keys() != other.keys():
        missing = sorted(reference.keys() - other.keys())
        extra = sorted(other.keys() - reference.keys())
        raise AggregationError(f"{what}: missing weights {missing}, unexpected weights {extra}")
    for key, ref in reference.items():
        shape = np.shape(other[key])
        if shape != np.shape(ref):
            raise AggregationError(
                f"{what}: weight {key!r} has shape {shape}, expected {np.shape(ref)}"
            )
        if not np.all(np.isfinite(other[key])):
            raise AggregationError(f"{what}: weight {key!r} contains NaN or infinity")


def weights_equal(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> bool:
    """Bit-for-bit equality of two weight dicts (same keys, dtypes, shapes and bytes)."""
    if a.keys() != b.keys():
        return False
    return all(
        np.asarray(a[k]).dtype == np.asarray(b[k]).dtype
        and np.shape(a[k]) == np.shape(b[k])
        and np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes()
        for k in a
    )
