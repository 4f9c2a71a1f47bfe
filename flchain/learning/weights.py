"""Model weights as plain NumPy: the currency between training and aggregation.

``Weights`` is a ``dict[str, np.ndarray]`` keyed by the names of a torch
``state_dict``: float32 arrays for the learned tensors, and *integer buffers*
(integer or bool arrays in their own dtype, such as BatchNorm's
``num_batches_tracked``). Training converts to and from torch; every strategy,
attack, privacy and compression routine works on ``Weights`` only, so the maths
stays pure and the same bytes come out on every machine.

Integer buffers are counters and flags, not learned values: the float maths
(flat vectors, deltas, norms, clipping, noise) covers the float tensors only
(:func:`is_float`), and integer buffers ride along unchanged; aggregation gives
them their own exact rule (:func:`flchain.learning.aggregation.weighted_median`).

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


INTEGER_KINDS = frozenset("iub")
"""NumPy dtype kinds of integer buffers: signed, unsigned and bool."""


def is_float(array: np.ndarray) -> bool:
    """Whether a tensor is learned (floating point), as opposed to an integer buffer."""
    return np.asarray(array).dtype.kind == "f"


def float_names(weights: Mapping[str, np.ndarray]) -> list[str]:
    """Names of the float tensors, sorted: the order of every flat vector."""
    return sorted(k for k, v in weights.items() if is_float(v))


def integer_names(weights: Mapping[str, np.ndarray]) -> list[str]:
    """Names of the integer buffers, sorted."""
    return sorted(k for k, v in weights.items() if not is_float(v))


def get_weights(model: torch.nn.Module) -> Weights:
    """Copy a model's state dict out, in its order: float tensors as float32, integer
    buffers in their own dtype."""
    out: Weights = {}
    for name, tensor in model.state_dict().items():
        array = tensor.detach().cpu().numpy()
        if tensor.is_floating_point():
            out[name] = array.astype(np.float32, copy=True)
        elif array.dtype.kind in INTEGER_KINDS:
            out[name] = array.copy()
        else:
            raise AggregationError(f"model tensor {name!r} has unsupported dtype {tensor.dtype}")
    return out


def set_weights(model: torch.nn.Module, weights: Mapping[str, np.ndarray]) -> None:
    """Load ``weights`` into ``model`` in place; names, shapes and the dtypes of integer
    buffers must match exactly."""
    import torch

    state = model.state_dict()
    missing = state.keys() - weights.keys()
    extra = weights.keys() - state.keys()
    if missing or extra:
        raise AggregationError(
            f"weights do not fit the model: missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    new_state = {}
    for name, tensor in state.items():
        array = np.asarray(weights[name])
        if tuple(array.shape) != tuple(tensor.shape):
            raise AggregationError(
                f"weight {name!r} has shape {array.shape}, model expects {tuple(tensor.shape)}"
            )
        if tensor.is_floating_point():
            array = np.ascontiguousarray(array, dtype=np.float32)
        elif array.dtype != tensor.detach().cpu().numpy().dtype:
            raise AggregationError(
                f"buffer {name!r} has dtype {array.dtype}, model expects {tensor.dtype}"
            )
        data = np.ascontiguousarray(array)
        if not data.flags.writeable:  # shared read-only (a pool's updates): torch wants its own
            data = data.copy()
        new_state[name] = torch.from_numpy(data).to(device=tensor.device, dtype=tensor.dtype)
    model.load_state_dict(new_state)


def flatten(weights: Mapping[str, np.ndarray], dtype: type = np.float64) -> np.ndarray:
    """Concatenate the float tensors (keys in sorted order) into one 1-D vector of ``dtype``.

    Integer buffers are not part of it (see :func:`unflatten`)."""
    names = float_names(weights)
    if not names:
        return np.zeros(0, dtype=dtype)
    return np.concatenate([np.asarray(weights[k], dtype=dtype).ravel() for k in names])


def unflatten(vector: np.ndarray, like: Mapping[str, np.ndarray]) -> Weights:
    """Split a flat vector back into float32 arrays shaped like ``like``'s float tensors;
    ``like``'s integer buffers are copied unchanged."""
    names = float_names(like)
    total = sum(int(np.prod(like[k].shape)) for k in names)
    if vector.ndim != 1 or vector.size != total:
        raise AggregationError(f"flat vector has {vector.size} values, expected {total}")
    out: Weights = {}
    offset = 0
    for key in sorted(like):
        shape = like[key].shape
        if not is_float(like[key]):
            out[key] = np.array(like[key], copy=True)
            continue
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
    """Raise :class:`AggregationError` unless ``other`` has the keys and shapes of
    ``reference``, float values where it has floats (all finite) and the same dtype
    where it has an integer buffer."""
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
        found = np.asarray(other[key]).dtype
        if is_float(ref):
            if found.kind != "f":
                raise AggregationError(f"{what}: weight {key!r} is {found}, expected a float")
            if not np.all(np.isfinite(other[key])):
                raise AggregationError(f"{what}: weight {key!r} contains NaN or infinity")
        elif found != np.asarray(ref).dtype:
            raise AggregationError(
                f"{what}: buffer {key!r} is {found}, expected {np.asarray(ref).dtype}"
            )


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
