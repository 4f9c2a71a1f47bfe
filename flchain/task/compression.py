"""Compression in the run path: what a client pins, and how every party reads it back.

A task whose ``spec.compression`` is set (``"topk:<fraction>"`` or ``"q8"``) has
every client pin, instead of its whole model, its update compressed against
the round's global model by :class:`flchain.learning.compression.Compressor`.
Top-k's error-feedback residual lives in that client's memory (one per client,
pooled clients included): a restarted client starts again from none. q8's
randomness is drawn on the client only, from ``derive_seed(seed, "compress",
index, round)``; decoding is a pure function of the file and the global model,
so every party (miners, clients, the auditor) rebuilds the same weights, bit
for bit, and their aggregates agree.

On the store a compressed update is a safetensors file written by
:func:`flchain.storage.codec.encode_weights`: its tensors are the payload's
arrays (top-k: ``indices`` uint32[k] and ``values`` float32[k]; q8: ``codes``
uint8[n] and ``ranges`` float32[⌈n/4096⌉, 2]), its metadata an update's
(round, author, architecture, parent = the global model's CID) plus
``compression``, the task's setting.

Decoding trusts nothing. The codec first checks the file within the task's
``max_update_bytes`` (header, offsets, dtypes, every float finite); then the
file must be compressed with the task's setting, against the global model it
is decoded with; the arrays must be exactly the scheme's, of its dtypes and of
the model's size n (its float parameter count); top-k may keep at most the
task's budget of values, with indices strictly increasing and below n; q8's
ranges must be finite with non-negative scales; and the rebuilt model must be
finite. Each failure is a :class:`CompressedUpdateError` naming it, which a
miner turns into a score of 0 with that reason.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from flchain.exceptions import CompressedUpdateError, CompressionError, ConfigError
from flchain.learning.compression import Compressor, Payload, rebuild, topk_count
from flchain.learning.weights import float_names
from flchain.storage.base import ContentStore
from flchain.storage.codec import ArchitectureSpec, ModelMeta, decode_weights, encode_weights
from flchain.task.aggregate import GlobalModel
from flchain.task.evaluation import derive_seed
from flchain.task.spec import TaskSpec
from flchain.types import Weights

OFF = ("", "none", "off")
"""Settings that mean no compression."""


def compression_setting(text: str) -> str:
    """The canonical form of a ``--compress`` / ``compress =`` setting (``""``: off)."""
    if not isinstance(text, str):
        raise ConfigError(f"compress must be a string such as 'topk:0.1' or 'q8', got {text!r}")
    return "" if text.strip().lower() in OFF else Compressor.parse(text).name


def compressor_for(spec: TaskSpec) -> Compressor | None:
    """A client's own compressor for ``spec`` (None: the task pins plain weights)."""
    return Compressor.parse(spec.compression) if spec.compression else None


def compression_rng(spec: TaskSpec, index: int, r: int) -> np.random.Generator:
    """The generator of client ``index``'s round-``r`` q8 rounding."""
    return np.random.default_rng(derive_seed(spec.seed, "compress", index, r))


def encode_update(
    compressor: Compressor | None,
    global_weights: Weights,
    local: Weights,
    meta: ModelMeta,
    rng: np.random.Generator,
) -> bytes:
    """The file a client pins: ``local`` itself, or its change from ``global_weights``
    compressed (``meta.parent`` must name that global model)."""
    if compressor is None:
        return encode_weights(local, meta)
    payload = compressor.payload(global_weights, local, rng)
    return encode_weights(payload.arrays, replace(meta, compression=compressor.name))


def decode_update(
    data: bytes | memoryview,
    *,
    spec: TaskSpec,
    arch: ArchitectureSpec,
    parent: GlobalModel | None,
) -> tuple[Weights, ModelMeta]:
    """An update's weights (decompressed against ``parent``, the round's global model, when
    the task compresses) and its metadata; a :class:`CodecError` (a
    :class:`CompressedUpdateError` for a compressed file) says why not."""
    max_bytes = spec.scoring.max_update_bytes
    if not spec.compression:
        weights, meta = decode_weights(data, expected=arch, max_bytes=max_bytes)
        if meta.compression:
            raise CompressedUpdateError(
                f"update is compressed ({meta.compression}); this task's updates are plain weights"
            )
        return weights, meta
    arrays, meta = decode_weights(data, max_bytes=max_bytes)
    if not meta.compression:
        raise CompressedUpdateError(
            f"update is not compressed; this task's updates are {spec.compression}"
        )
    if meta.compression != spec.compression:
        raise CompressedUpdateError(
            f"update is compressed as {meta.compression}; this task's updates are "
            f"{spec.compression}"
        )
    if meta.parent is None:
        raise CompressedUpdateError("update names no global model it was compressed against")
    if parent is None:
        raise CompressedUpdateError("the global model it was compressed against is unknown")
    if meta.parent != parent.cid:
        raise CompressedUpdateError(
            f"update is compressed against {meta.parent}, not the round's global model {parent.cid}"
        )
    weights = _rebuild(spec.compression, arrays, parent.weights)
    order = arch.order or tuple(parent.weights)
    return {name: weights[name] for name in order}, meta


def _rebuild(setting: str, arrays: dict[str, np.ndarray], global_weights: Weights) -> Weights:
    scheme = Compressor.parse(setting)
    n = sum(int(np.asarray(global_weights[k]).size) for k in float_names(global_weights))
    if scheme.scheme == "topk" and "indices" in arrays:
        budget = topk_count(scheme.fraction, n)
        if arrays["indices"].size > budget:
            raise CompressedUpdateError(
                f"top-k update keeps {arrays['indices'].size} values, over the task's "
                f"{budget} ({setting} of {n})"
            )
    try:
        return rebuild(global_weights, Payload(scheme.scheme, n, arrays))
    except CompressionError as exc:
        raise CompressedUpdateError(str(exc)) from exc
    except Exception as exc:  # a last resort: every known failure is checked for above
        reason = f"{type(exc).__name__}: {exc}"[:200]
        raise CompressedUpdateError(f"compressed update does not decode: {reason}") from exc


def fetch_update(
    store: ContentStore,
    cid: str,
    *,
    spec: TaskSpec,
    arch: ArchitectureSpec,
    parent: GlobalModel | None,
) -> tuple[Weights, ModelMeta]:
    """Fetch and decode an update (see :func:`decode_update`), refusing a file over the task's
    ``max_update_bytes`` from its root block alone."""
    data = store.get(cid, max_size=spec.scoring.max_update_bytes)
    return decode_update(data, spec=spec, arch=arch, parent=parent)
