"""Model weights as deterministic safetensors bytes, and a strict decoder.

The same tensors and metadata always give the same bytes, hence the same CID:
tensors sorted by name, all float32 little-endian, packed back to back;
metadata keys in a fixed order (round, author, architecture, parent); a
compact JSON header padded with spaces to 8 bytes. The file is standard
safetensors (``safetensors.numpy.load`` reads it). We write it ourselves
because safetensors' serializer emits the metadata map in a random order.

Decoding trusts nothing from a peer: the size is checked before anything is
read, the header must be well formed, offsets must tile the data exactly,
the architecture must match when one is expected, and every value must be
finite. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flchain.exceptions import CIDError, CodecError, ObjectTooLargeError
from flchain.storage.base import ContentStore
from flchain.storage.cid import CID
from flchain.types import Address, CIDStr, RoundId

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
"""Largest model accepted unless the caller says otherwise."""

MAX_HEADER_BYTES = 16 * 1024 * 1024
_DTYPE = np.dtype("<f4")
_META_KEYS = ("round", "author", "architecture", "parent")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

Weights = Mapping[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class ModelMeta:
    """Provenance written into every model file."""

    round: RoundId
    author: Address
    architecture: str
    parent: CIDStr | None = None

    def to_header(self) -> dict[str, str]:
        return {
            "round": str(int(self.round)),
            "author": str(self.author),
            "architecture": self.architecture,
            "parent": self.parent or "",
        }

    @classmethod
    def from_header(cls, raw: object) -> ModelMeta:
        if not isinstance(raw, dict) or set(raw) != set(_META_KEYS):
            raise CodecError(f"model metadata must have exactly the keys {list(_META_KEYS)}")
        if not all(isinstance(v, str) for v in raw.values()):
            raise CodecError("model metadata values must be strings")
        if not raw["round"].isdigit():
            raise CodecError(f"model metadata round {raw['round']!r} is not a round number")
        if not _ADDRESS.match(raw["author"]):
            raise CodecError(f"model metadata author {raw['author']!r} is not an address")
        parent = raw["parent"] or None
        if parent is not None:
            try:
                parent = CID.parse(parent).encode()
            except CIDError as exc:
                raise CodecError(f"model metadata parent is not a CID: {exc}") from exc
        return cls(RoundId(int(raw["round"])), Address(raw["author"]), raw["architecture"], parent)


@dataclass(frozen=True, slots=True)
class ArchitectureSpec:
    """Tensor names with their shapes and dtypes, sorted by name."""

    tensors: tuple[tuple[str, tuple[int, ...], str], ...]

    @classmethod
    def from_weights(cls, weights: Weights) -> ArchitectureSpec:
        return cls(tuple((n, tuple(weights[n].shape), "float32") for n in sorted(weights)))

    @classmethod
    def from_shapes(cls, shapes: Mapping[str, tuple[int, ...]]) -> ArchitectureSpec:
        return cls(tuple((n, tuple(shapes[n]), "float32") for n in sorted(shapes)))

    def fingerprint(self) -> str:
        """A short stable id of this architecture (usable as ``ModelMeta.architecture``)."""
        text = json.dumps([[n, list(s), d] for n, s, d in self.tensors], separators=(",", ":"))
        return "arch-" + hashlib.sha256(text.encode()).hexdigest()[:16]

    def check(self, found: ArchitectureSpec) -> None:
        """Raise CodecError naming every difference between ``found`` and this spec."""
        want = {n: (s, d) for n, s, d in self.tensors}
        got = {n: (s, d) for n, s, d in found.tensors}
        problems = [f"missing tensor {n!r}" for n in sorted(want.keys() - got.keys())]
        problems += [f"unexpected tensor {n!r}" for n in sorted(got.keys() - want.keys())]
        for n in sorted(want.keys() & got.keys()):
            if want[n] != got[n]:
                problems.append(
                    f"tensor {n!r} is {got[n][1]}{list(got[n][0])}, "
                    f"expected {want[n][1]}{list(want[n][0])}"
                )
        if problems:
            raise CodecError("wrong architecture: " + "; ".join(problems))


def encode_weights(weights: Weights, meta: ModelMeta) -> bytes:
    """Serialize weights (any float dtype, stored as float32) with their metadata."""
    arrays: dict[str, np.ndarray] = {}
    for name in sorted(weights):
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise CodecError(f"invalid tensor name {name!r}")
        array = np.asarray(weights[name])
        if array.dtype.kind != "f":
            raise CodecError(f"tensor {name!r} has dtype {array.dtype}, expected a float type")
        array = np.ascontiguousarray(array, dtype=_DTYPE)
        if not np.isfinite(array).all():
            raise CodecError(f"tensor {name!r} contains NaN or Inf")
        arrays[name] = array
    header: dict[str, Any] = {"__metadata__": meta.to_header()}
    offset = 0
    for name, array in arrays.items():
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    # Arrays are C-contiguous (ascontiguousarray above), so .data is their raw bytes.
    return b"".join(
        [len(text).to_bytes(8, "little"), text, *(array.data for array in arrays.values())]
    )


def decode_weights(
    data: bytes | memoryview,
    *,
    expected: ArchitectureSpec | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[dict[str, np.ndarray], ModelMeta]:
    """Parse and check a model file; return writable float32 arrays and the metadata."""
    if len(data) > max_bytes:
        raise ObjectTooLargeError(f"model file is {len(data)} bytes, over the limit {max_bytes}")
    if len(data) < 8:
        raise CodecError(f"truncated model file: {len(data)} bytes, no header length")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > MAX_HEADER_BYTES or 8 + header_len > len(data):
        raise CodecError(f"truncated or malformed header: length {header_len} of {len(data)}")
    header = _parse_header(bytes(data[8 : 8 + header_len]))
    meta = ModelMeta.from_header(header.pop("__metadata__", None))
    spec, offsets = _layout(header, len(data) - 8 - header_len)
    if expected is not None:
        expected.check(spec)
    base = 8 + header_len
    weights: dict[str, np.ndarray] = {}
    for name, shape, _dtype in spec.tensors:
        begin, end = offsets[name]
        count = (end - begin) // 4
        array = np.frombuffer(data, dtype=_DTYPE, count=count, offset=base + begin)
        array = array.reshape(shape).astype(np.float32, copy=True)
        if not np.isfinite(array).all():
            raise CodecError(f"tensor {name!r} contains NaN or Inf")
        weights[name] = array
    return weights, meta


def decode_weights_from_store(
    store: ContentStore,
    cid: str,
    *,
    expected: ArchitectureSpec | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[dict[str, np.ndarray], ModelMeta]:
    """Fetch and decode a model, refusing oversize files from their root block alone."""
    # store.get checks the size against max_size from the root block before fetching more.
    return decode_weights(
        store.get(cid, max_size=max_bytes), expected=expected, max_bytes=max_bytes
    )


def _parse_header(text: bytes) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise CodecError("malformed header: duplicate keys")
        return dict(pairs)

    try:
        header = json.loads(text, object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"malformed header: {exc}") from exc
    if not isinstance(header, dict):
        raise CodecError("malformed header: not a JSON object")
    return header


def _layout(
    header: dict[str, Any], data_len: int
) -> tuple[ArchitectureSpec, dict[str, tuple[int, int]]]:
    """Check every tensor entry; offsets must tile [0, data_len) exactly."""
    entries: list[tuple[str, tuple[int, ...], str]] = []
    offsets: dict[str, tuple[int, int]] = {}
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise CodecError(f"malformed header entry for tensor {name!r}")
        if info["dtype"] != "F32":
            raise CodecError(f"tensor {name!r} has dtype {info['dtype']!r}, expected F32")
        shape, span = info["shape"], info["data_offsets"]
        if not _ints(shape) or not _ints(span) or len(span) != 2:
            raise CodecError(f"tensor {name!r} has a malformed shape or offsets")
        if span[1] - span[0] != 4 * math.prod(shape):
            raise CodecError(f"tensor {name!r}: offsets {span} do not fit shape {shape}")
        entries.append((name, tuple(shape), "float32"))
        offsets[name] = (span[0], span[1])
    position = 0
    for begin, end in sorted(offsets.values()):
        if begin != position:
            raise CodecError(f"tensor data is not contiguous at byte {position}")
        position = end
    if position != data_len:
        raise CodecError(f"tensor data covers {position} bytes but the file holds {data_len}")
    return ArchitectureSpec(tuple(sorted(entries))), offsets


def _ints(values: object) -> bool:
    return isinstance(values, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    )
