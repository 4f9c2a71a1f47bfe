"""Update compression: top-k sparsification with error feedback, 8-bit stochastic quantisation.

Both act on the flat update Δ = local − global (float tensors, keys in sorted
order) and produce compact bytes; the receiver decodes against the same global
model, whose integer buffers the decoded update keeps (they are not compressed).

* Top-k (Aji & Heafield, 2017; error feedback as in Stich et al., "Sparsified
  SGD with Memory", NeurIPS 2018): keep the k largest-magnitude entries; the
  rest is remembered by the client and added to its next update.
  Encoding: ``b"FLTK" | n:u64 | k:u64 | indices:u32[k] | values:f32[k]`` (little endian).
* 8-bit stochastic quantisation (QSGD-style, Alistarh et al., NeurIPS 2017):
  per chunk of 4,096 values, ``min`` and ``scale`` as float32 and each value
  rounded up or down at random to one of 256 levels, unbiased.
  Encoding: ``b"FLQ8" | n:u64 | chunk:u32 | (min,scale):f32[2·chunks] | codes:u8[n]``.
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
_CHUNK = 4096


def delta_vector(global_weights: Weights, local: Weights) -> np.ndarray:
    """Flat float32 ``local − global``."""
    delta: np.ndarray = flatten(local, np.float64) - flatten(global_weights, np.float64)
    return delta.astype(np.float32)


def apply_delta(global_weights: Weights, delta: np.ndarray) -> Weights:
    """``global + delta`` as weights."""
    return unflatten(flatten(global_weights, np.float64) + delta.astype(np.float64), global_weights)


def encode_topk(vector: np.ndarray, k: int) -> bytes:
    """Keep the ``k`` largest-magnitude entries (ties to the lower index)."""
    n = vector.size
    k = max(0, min(k, n))
    order = np.argsort(-np.abs(vector), kind="stable")[:k]
    idx = np.sort(order).astype("<u4")
    vals = vector[idx].astype("<f4")
    return b"".join((_TOPK, struct.pack("<QQ", n, k), idx.tobytes(), vals.tobytes()))


def decode_topk(blob: bytes) -> np.ndarray:
    """Inverse of :func:`encode_topk` (zeros where nothing was sent)."""
    if len(blob) < 20 or blob[:4] != _TOPK:
        raise CompressionError("not a top-k encoded update")
    n, k = struct.unpack_from("<QQ", blob, 4)
    if len(blob) != 20 + 8 * k or k > n or n >= 2**32:
        raise CompressionError("top-k update has the wrong length")
    idx = np.frombuffer(blob, dtype="<u4", count=k, offset=20).astype(np.int64)
    vals = np.frombuffer(blob, dtype="<f4", count=k, offset=20 + 4 * k)
    if k and int(idx.max()) >= n:
        raise CompressionError("top-k index out of range")
    out = np.zeros(n, dtype=np.float32)
    out[idx] = vals
    return out


def encode_q8(vector: np.ndarray, rng: np.random.Generator) -> bytes:
    """Unbiased 8-bit stochastic quantisation per chunk of 4,096 values."""
    v = np.asarray(vector, dtype=np.float32)
    n = v.size
    chunks = -(-n // _CHUNK)
    padded = np.zeros(chunks * _CHUNK, dtype=np.float64)
    padded[:n] = v
    blocks = padded.reshape(chunks, _CHUNK)
    lo = blocks.min(axis=1)
    hi = blocks.max(axis=1)
    scale = ((hi - lo) / 255.0).astype(np.float32).astype(np.float64)
    lo = lo.astype(np.float32).astype(np.float64)
    safe = np.where(scale > 0, scale, 1.0)
    pos = (blocks - lo[:, None]) / safe[:, None]
    codes = np.floor(pos + rng.random(pos.shape))
    codes = np.clip(codes, 0, 255).astype(np.uint8).ravel()[:n]
    header = _Q8 + struct.pack("<QI", n, _CHUNK)
    meta = np.stack([lo, scale], axis=1).astype("<f4")
    return b"".join((header, meta.tobytes(), codes.tobytes()))


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
    meta = np.frombuffer(blob, dtype="<f4", count=2 * chunks, offset=16).reshape(chunks, 2)
    codes = np.frombuffer(blob, dtype=np.uint8, count=n, offset=16 + 8 * chunks)
    which = np.arange(n) // chunk
    out: np.ndarray = meta[which, 0].astype(np.float64) + codes * meta[which, 1].astype(np.float64)
    return out.astype(np.float32)


@dataclass
class Compressor:
    """A client's compressor: ``topk:<fraction>`` or ``q8``, with top-k error feedback."""

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

    def compress(self, global_weights: Weights, local: Weights, rng: np.random.Generator) -> bytes:
        """Encode ``local − global`` (plus remembered residual for top-k)."""
        delta = delta_vector(global_weights, local)
        if self.scheme == "q8":
            return encode_q8(delta, rng)
        if self.residual is not None and self.residual.shape == delta.shape:
            delta = delta + self.residual
        blob = encode_topk(delta, max(1, round(self.fraction * delta.size)))
        self.residual = delta - decode_topk(blob)
        return blob


def decompress(global_weights: Weights, blob: bytes) -> Weights:
    """Rebuild the client's model from the global model and an encoded update."""
    head = blob[:4]
    if head == _TOPK:
        return apply_delta(global_weights, decode_topk(blob))
    if head == _Q8:
        return apply_delta(global_weights, decode_q8(blob))
    raise CompressionError("unknown compressed update format")
