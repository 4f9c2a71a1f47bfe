"""Update compression: top-k sparsification with error feedback, 8-bit stochastic quantisation.

Both act on the flat update Δ = local − global (float tensors, keys in sorted
order) and produce a compact :class:`Payload` (named arrays); the receiver
decodes against the same global model, whose integer buffers the decoded update
keeps (they are not compressed).

* Top-k (Aji & Heafield, 2017; error feedback as in Stich et al., "Sparsified
  SGD with Memory", NeurIPS 2018): keep the k largest-magnitude entries; the
  rest is remembered by the client and added to its next update.
  Arrays: ``indices`` (uint32[k], strictly increasing) and ``values`` (float32[k]).
  Bytes: ``b"FLTK" | n:u64 | k:u64 | indices:u32[k] | values:f32[k]`` (little endian).
* 8-bit stochastic quantisation (QSGD-style, Alistarh et al., NeurIPS 2017):
  per chunk of 4,096 values, ``min`` and ``scale`` as float32 and each value
  rounded up or down at random to one of 256 levels, unbiased. Only encoding is
  random; decoding is a pure function of the payload.
  Arrays: ``ranges`` (float32[chunks, 2], min and scale) and ``codes`` (uint8[n]).
  Bytes: ``b"FLQ8" | n:u64 | chunk:u32 | (min,scale):f32[2·chunks] | codes:u8[n]``.

:func:`expand` trusts nothing: shapes, dtypes, counts, order, range and
finiteness are checked, each failure a :class:`CompressionError` naming it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from flchain.exceptions import CompressionError, ConfigError
from flchain.learning.weights import flatten, unflatten
from flchain.types import Weights

_TOPK = b"FLTK"
_Q8 = b"FLQ8"
CHUNK = 4096
"""Values per 8-bit quantisation chunk (each chunk has its own min and scale)."""
SCHEMES = ("topk", "q8")
ARRAYS = {"topk": ("indices", "values"), "q8": ("codes", "ranges")}
"""The named arrays of each scheme's payload."""
_DTYPES = {
    "indices": np.dtype(np.uint32),
    "values": np.dtype(np.float32),
    "codes": np.dtype(np.uint8),
    "ranges": np.dtype(np.float32),
}


@dataclass(frozen=True)
class Payload:
    """A compressed update of ``n`` float values: its scheme and named arrays."""

    scheme: str
    n: int
    arrays: dict[str, np.ndarray]
    chunk: int = CHUNK


def topk_count(fraction: float, n: int) -> int:
    """How many entries top-k keeps of ``n`` at ``fraction`` (at least one)."""
    return max(1, round(fraction * n))


def delta_vector(global_weights: Weights, local: Weights) -> np.ndarray:
    """Flat float32 ``local − global``."""
    delta: np.ndarray = flatten(local, np.float64) - flatten(global_weights, np.float64)
    return delta.astype(np.float32)


def apply_delta(global_weights: Weights, delta: np.ndarray) -> Weights:
    """``global + delta`` as weights."""
    return unflatten(flatten(global_weights, np.float64) + delta.astype(np.float64), global_weights)


def topk_payload(vector: np.ndarray, k: int) -> Payload:
    """Keep the ``k`` largest-magnitude entries (ties to the lower index)."""
    n = vector.size
    k = max(0, min(k, n))
    order = np.argsort(-np.abs(vector), kind="stable")[:k]
    idx = np.sort(order).astype(np.uint32)
    return Payload("topk", n, {"indices": idx, "values": vector[idx].astype(np.float32)})


def q8_payload(vector: np.ndarray, rng: np.random.Generator) -> Payload:
    """Unbiased 8-bit stochastic quantisation per chunk of :data:`CHUNK` values."""
    v = np.asarray(vector, dtype=np.float32)
    n = v.size
    chunks = -(-n // CHUNK)
    padded = np.zeros(chunks * CHUNK, dtype=np.float64)
    padded[:n] = v
    blocks = padded.reshape(chunks, CHUNK)
    lo = blocks.min(axis=1)
    hi = blocks.max(axis=1)
    scale = ((hi - lo) / 255.0).astype(np.float32).astype(np.float64)
    lo = lo.astype(np.float32).astype(np.float64)
    safe = np.where(scale > 0, scale, 1.0)
    pos = (blocks - lo[:, None]) / safe[:, None]
    codes = np.floor(pos + rng.random(pos.shape))
    codes = np.clip(codes, 0, 255).astype(np.uint8).ravel()[:n]
    ranges = np.stack([lo, scale], axis=1).astype(np.float32).reshape(chunks, 2)
    return Payload("q8", n, {"codes": codes, "ranges": ranges})


def expand(payload: Payload) -> np.ndarray:
    """The flat float32 update a payload stands for, after checking every part of it."""
    scheme, n, arrays = payload.scheme, payload.n, payload.arrays
    if scheme not in ARRAYS:
        raise CompressionError(f"unknown compression scheme {scheme!r}")
    if set(arrays) != set(ARRAYS[scheme]):
        raise CompressionError(f"{scheme} update must hold exactly the arrays {ARRAYS[scheme]}")
    for name, array in arrays.items():
        if array.dtype != _DTYPES[name]:
            raise CompressionError(f"{scheme} {name} are {array.dtype}, not {_DTYPES[name]}")
    return _expand_topk(n, **arrays) if scheme == "topk" else _expand_q8(n, payload.chunk, **arrays)


def _expand_topk(n: int, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
    if indices.ndim != 1 or values.shape != indices.shape:
        raise CompressionError(
            f"top-k indices {list(indices.shape)} and values {list(values.shape)} "
            "must be two vectors of the same length"
        )
    k = indices.size
    if k > n:
        raise CompressionError(f"top-k update keeps {k} values of a model of {n}")
    idx = indices.astype(np.int64)
    if k and int(idx.max()) >= n:
        raise CompressionError(f"top-k index {int(idx.max())} out of range for {n} values")
    if k > 1 and not bool(np.all(np.diff(idx) > 0)):
        raise CompressionError("top-k indices are not strictly increasing")
    if not np.isfinite(values).all():
        raise CompressionError("top-k values contain NaN or Inf")
    out = np.zeros(n, dtype=np.float32)
    out[idx] = values
    return out


def _expand_q8(n: int, chunk: int, codes: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    if chunk <= 0:
        raise CompressionError("8-bit update has chunk size 0")
    if codes.shape != (n,):
        raise CompressionError(f"8-bit update has codes {list(codes.shape)}, expected [{n}]")
    chunks = -(-n // chunk)
    if ranges.shape != (chunks, 2):
        raise CompressionError(
            f"8-bit update has ranges {list(ranges.shape)}, expected [{chunks}, 2]"
        )
    if not np.isfinite(ranges).all():
        raise CompressionError("8-bit ranges contain NaN or Inf")
    if (ranges[:, 1] < 0).any():
        raise CompressionError("8-bit ranges have a negative scale")
    which = np.arange(n) // chunk
    lo, scale = ranges[which, 0].astype(np.float64), ranges[which, 1].astype(np.float64)
    with np.errstate(over="ignore"):  # found just below
        out: np.ndarray = (lo + codes * scale).astype(np.float32)
    if not np.isfinite(out).all():
        raise CompressionError("8-bit update decodes to values beyond float32")
    return out


def pack(payload: Payload) -> bytes:
    """A payload as the compact bytes described above."""
    a = payload.arrays
    if payload.scheme == "topk":
        k = a["indices"].size
        head = _TOPK + struct.pack("<QQ", payload.n, k)
        return b"".join(
            (head, a["indices"].astype("<u4").tobytes(), a["values"].astype("<f4").tobytes())
        )
    head = _Q8 + struct.pack("<QI", payload.n, payload.chunk)
    return b"".join((head, a["ranges"].astype("<f4").tobytes(), a["codes"].tobytes()))


def encode_topk(vector: np.ndarray, k: int) -> bytes:
    """Keep the ``k`` largest-magnitude entries (ties to the lower index), as bytes."""
    return pack(topk_payload(vector, k))


def decode_topk(blob: bytes) -> np.ndarray:
    """Inverse of :func:`encode_topk` (zeros where nothing was sent)."""
    if len(blob) < 20 or blob[:4] != _TOPK:
        raise CompressionError("not a top-k encoded update")
    n, k = struct.unpack_from("<QQ", blob, 4)
    if len(blob) != 20 + 8 * k or k > n or n >= 2**32:
        raise CompressionError("top-k update has the wrong length")
    idx = np.frombuffer(blob, dtype="<u4", count=k, offset=20).astype(np.uint32)
    vals = np.frombuffer(blob, dtype="<f4", count=k, offset=20 + 4 * k).astype(np.float32)
    return expand(Payload("topk", n, {"indices": idx, "values": vals}))


def encode_q8(vector: np.ndarray, rng: np.random.Generator) -> bytes:
    """Unbiased 8-bit stochastic quantisation per chunk of 4,096 values, as bytes."""
    return pack(q8_payload(vector, rng))


def decode_q8(blob: bytes) -> np.ndarray:
    """Inverse of :func:`encode_q8`."""
    if len(blob) < 16 or blob[:4] != _Q8:
        raise CompressionError("not an 8-bit quantised update")
    n, chunk = struct.unpack_from("<QI", blob, 4)
    if chunk == 0:
        raise CompressionError("8-bit update has chunk size 0")
    chunks = -(-n // chunk)
    if len(blob) != 16 + 8 * chunks + n:
        raise CompressionError("8-bit update has the wrong length")
    ranges = np.frombuffer(blob, dtype="<f4", count=2 * chunks, offset=16).reshape(chunks, 2)
    codes = np.frombuffer(blob, dtype=np.uint8, count=n, offset=16 + 8 * chunks)
    arrays: dict[str, np.ndarray] = {"ranges": ranges.astype(np.float32), "codes": codes}
    return expand(Payload("q8", n, arrays, chunk))


@dataclass
class Compressor:
    """A client's compressor: ``topk:<fraction>`` or ``q8``, with top-k error feedback
    (``residual``: what top-k has not sent yet, kept in memory only)."""

    scheme: str
    fraction: float = 1.0
    residual: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, spec: str) -> Compressor:
        """``"topk:0.1"`` or ``"q8"``."""
        kind, _, raw = spec.strip().lower().partition(":")
        if kind == "q8" and not raw:
            return cls("q8")
        if kind == "topk":
            try:
                fraction = float(raw) if raw else 0.1
            except ValueError as exc:
                raise ConfigError(f"top-k fraction in {spec!r} must be a number") from exc
            if not 0 < fraction <= 1:
                raise ConfigError(f"top-k fraction in {spec!r} must be in (0, 1]")
            return cls("topk", fraction)
        raise ConfigError(f"unknown compression {spec!r}; use topk:<fraction> or q8")

    @property
    def name(self) -> str:
        """The canonical setting: ``"q8"`` or ``"topk:<fraction>"``."""
        return "q8" if self.scheme == "q8" else f"topk:{self.fraction:g}"

    def payload(self, global_weights: Weights, local: Weights, rng: np.random.Generator) -> Payload:
        """Compress ``local − global`` (plus the remembered residual for top-k)."""
        delta = delta_vector(global_weights, local)
        if self.scheme == "q8":
            return q8_payload(delta, rng)
        if self.residual is not None and self.residual.shape == delta.shape:
            delta = delta + self.residual
        payload = topk_payload(delta, topk_count(self.fraction, delta.size))
        self.residual = delta - expand(payload)
        return payload

    def compress(self, global_weights: Weights, local: Weights, rng: np.random.Generator) -> bytes:
        """:meth:`payload` as bytes."""
        return pack(self.payload(global_weights, local, rng))


def rebuild(global_weights: Weights, payload: Payload) -> Weights:
    """The client's model: ``global + expand(payload)``, refused unless every value is finite."""
    n = flatten(global_weights, np.float32).size
    if payload.n != n:
        raise CompressionError(
            f"{payload.scheme} update is of {payload.n} values, the model has {n}"
        )
    delta = expand(payload)
    with np.errstate(over="ignore"):  # found just below
        weights = apply_delta(global_weights, delta)
    if not all(np.isfinite(w).all() for w in weights.values() if w.dtype.kind == "f"):
        raise CompressionError("decompressed model contains NaN or Inf")
    return weights


def decompress(global_weights: Weights, blob: bytes) -> Weights:
    """Rebuild the client's model from the global model and an encoded update."""
    head = blob[:4]
    if head == _TOPK:
        return apply_delta(global_weights, decode_topk(blob))
    if head == _Q8:
        return apply_delta(global_weights, decode_q8(blob))
    raise CompressionError("unknown compressed update format")
