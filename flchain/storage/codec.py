"""Model weights as deterministic safetensors bytes, and a strict decoder.

The same tensors and metadata always give the same bytes, hence the same CID:
tensors sorted by name, float tensors as float32 and integer buffers (such as
BatchNorm's ``num_batches_tracked``) in their own integer or bool dtype
(:data:`DTYPES`), all little-endian, packed back to back;
metadata keys in a fixed order (round, author, architecture, parent); a
compact JSON header padded with spaces to 8 bytes. The file is standard
safetensors (``safetensors.numpy.load`` reads it). We write it ourselves
because safetensors' serializer emits the metadata map in a random order.

Decoding trusts nothing from a peer: the size is checked before anything is
read, the header must be well formed within fixed limits (see
:mod:`flchain.storage.header`), offsets must tile the data exactly, the
architecture (names, shapes and dtypes) must match when one is expected, every
float must be finite and every bool 0 or 1. The file keeps names, dtypes and
values exactly but sorts by name; decoding against an :class:`ArchitectureSpec`
made from a state dict gives its order back.
Nothing is ever unpickled. Every failure is a :class:`StorageError` naming what
was wrong (a :class:`CodecError` for a malformed file); the public decoders
translate anything unforeseen into a CodecError too.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flchain.exceptions import CIDError, CodecError, ObjectTooLargeError, StorageError
from flchain.storage.base import ContentStore
from flchain.storage.cid import CID
from flchain.storage.header import MAX_HEADER_BYTES, parse_header, parse_uint, show
from flchain.types import Address, CIDStr, RoundId, Weights

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
"""Largest model accepted unless the caller says otherwise."""

FLOAT = "float32"
"""The dtype every float tensor is stored in (the architecture's name for it)."""

DTYPES: Mapping[str, tuple[str, np.dtype[Any]]] = {
    FLOAT: ("F32", np.dtype("<f4")),
    "int64": ("I64", np.dtype("<i8")),
    "int32": ("I32", np.dtype("<i4")),
    "int16": ("I16", np.dtype("<i2")),
    "int8": ("I8", np.dtype("i1")),
    "uint64": ("U64", np.dtype("<u8")),
    "uint32": ("U32", np.dtype("<u4")),
    "uint16": ("U16", np.dtype("<u2")),
    "uint8": ("U8", np.dtype("u1")),
    "bool": ("BOOL", np.dtype("?")),
}
"""Architecture dtype name -> (safetensors dtype code, little-endian NumPy dtype)."""

_BY_CODE = {code: (name, dtype) for name, (code, dtype) in DTYPES.items()}
_META_KEYS = ("round", "author", "architecture", "parent")
_COMPRESSION = "compression"
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_MAX_ROUND = 2**63 - 1
_MAX_META_CHARS = 256  # architecture names and CIDs are far shorter
_MAX_RANK = 32  # numpy's limit on dimensions
_MAX_ELEMENTS = 1 << 48  # product of a shape's non-zero dimensions


@dataclass(frozen=True, slots=True)
class ModelMeta:
    """Provenance written into every model file. ``compression``: the scheme of a
    compressed update (see ``flchain.task.compression``); a file of plain weights has
    no such key, so its bytes are those of a file without the field."""

    round: RoundId
    author: Address
    architecture: str
    parent: CIDStr | None = None
    compression: str = ""

    def to_header(self) -> dict[str, str]:
        header = {
            "round": str(int(self.round)),
            "author": str(self.author),
            "architecture": self.architecture,
            "parent": self.parent or "",
        }
        if self.compression:
            header[_COMPRESSION] = self.compression
        return header

    @classmethod
    def from_header(cls, raw: object) -> ModelMeta:
        keys = _META_KEYS + (
            (_COMPRESSION,) if isinstance(raw, dict) and _COMPRESSION in raw else ()
        )
        if not isinstance(raw, dict) or set(raw) != set(keys):
            raise CodecError(
                f"model metadata must have exactly the keys {list(_META_KEYS)} "
                f"(and {_COMPRESSION!r} for a compressed update)"
            )
        for key in keys:
            if not isinstance(raw[key], str):
                raise CodecError(f"model metadata {key} is {show(raw[key])}, not a string")
            if len(raw[key]) > _MAX_META_CHARS:
                raise CodecError(f"model metadata {key} is over {_MAX_META_CHARS} characters")
        if raw.get(_COMPRESSION) == "":
            raise CodecError("model metadata compression is empty")
        round_id = parse_uint(raw["round"], "model metadata round", _MAX_ROUND)
        if not _ADDRESS.fullmatch(raw["author"]):
            raise CodecError(f"model metadata author {show(raw['author'])} is not an address")
        parent = raw["parent"] or None
        if parent is not None:
            try:
                parent = CID.parse(parent).encode()
            except CIDError as exc:
                raise CodecError(f"model metadata parent is not a CID: {exc}") from exc
        author, arch = Address(raw["author"]), raw["architecture"]
        return cls(RoundId(round_id), author, arch, parent, raw.get(_COMPRESSION, ""))


def dtype_name(array: np.ndarray) -> str:
    """The architecture's dtype name for an array: ``float32`` for any float, else
    its own integer or bool dtype (refused when safetensors has none for it)."""
    kind = np.asarray(array).dtype
    if kind.kind == "f":
        return FLOAT
    if kind.kind in "iub" and kind.name in DTYPES:
        return kind.name
    raise CodecError(f"dtype {kind} is not storable; known: {', '.join(DTYPES)}")


@dataclass(frozen=True, slots=True)
class ArchitectureSpec:
    """Tensor names with their shapes and dtypes, sorted by name, and the model's own
    tensor order (``order``: not part of the architecture's identity, only of how
    decoded weights are handed back)."""

    tensors: tuple[tuple[str, tuple[int, ...], str], ...]
    order: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_weights(cls, weights: Weights) -> ArchitectureSpec:
        tensors = tuple(
            (n, tuple(weights[n].shape), dtype_name(weights[n])) for n in sorted(weights)
        )
        return cls(tensors, tuple(weights))

    @classmethod
    def from_shapes(cls, shapes: Mapping[str, tuple[int, ...]]) -> ArchitectureSpec:
        return cls(tuple((n, tuple(shapes[n]), FLOAT) for n in sorted(shapes)))

    def fingerprint(self) -> str:
        """A short stable id of this architecture (usable as ``ModelMeta.architecture``)."""
        text = json.dumps([[n, list(s), d] for n, s, d in self.tensors], separators=(",", ":"))
        return "arch-" + hashlib.sha256(text.encode()).hexdigest()[:16]

    def check(self, found: ArchitectureSpec) -> None:
        """Raise CodecError naming every difference between ``found`` and this spec."""
        want = {n: (s, d) for n, s, d in self.tensors}
        got = {n: (s, d) for n, s, d in found.tensors}
        problems = [f"missing tensor {show(n)}" for n in sorted(want.keys() - got.keys())]
        problems += [f"unexpected tensor {show(n)}" for n in sorted(got.keys() - want.keys())]
        for n in sorted(want.keys() & got.keys()):
            if want[n] != got[n]:
                problems.append(
                    f"tensor {show(n)} is {got[n][1]}{list(got[n][0])}, "
                    f"expected {want[n][1]}{list(want[n][0])}"
                )
        if len(problems) > 20:  # a crafted file may hold any number of tensors
            problems[20:] = [f"and {len(problems) - 20} more"]
        if problems:
            raise CodecError("wrong architecture: " + "; ".join(problems))


def encode_weights(weights: Weights, meta: ModelMeta) -> bytes:
    """Serialize weights with their metadata: any float dtype is stored as float32,
    integer and bool buffers exactly, in their own dtype."""
    arrays: dict[str, np.ndarray] = {}
    codes: dict[str, str] = {}
    for name in sorted(weights):
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise CodecError(f"invalid tensor name {name!r}")
        array = np.asarray(weights[name])
        try:
            codes[name], dtype = DTYPES[dtype_name(array)]
        except CodecError as exc:
            raise CodecError(f"tensor {name!r}: {exc}") from exc
        array = np.asarray(array, dtype=dtype, order="C")  # keeps 0-d tensors 0-d
        if codes[name] == "F32" and not np.isfinite(array).all():
            raise CodecError(f"tensor {name!r} contains NaN or Inf")
        arrays[name] = array
    header: dict[str, Any] = {"__metadata__": meta.to_header()}
    offset = 0
    for name, array in arrays.items():
        header[name] = {
            "dtype": codes[name],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    # Arrays are C-contiguous (order="C" above), so .data is their raw bytes.
    return b"".join(
        [len(text).to_bytes(8, "little"), text, *(array.data for array in arrays.values())]
    )


def decode_weights(
    data: bytes | memoryview,
    *,
    expected: ArchitectureSpec | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[dict[str, np.ndarray], ModelMeta]:
    """Parse and check a model file; return writable arrays (float32, or the integer
    buffer's dtype) and the metadata, in ``expected``'s order when it has one.

    Raises a :class:`StorageError` (a :class:`CodecError` for a malformed file),
    and nothing else, whatever the bytes.
    """
    try:
        return _decode(data, expected, max_bytes)
    except StorageError:
        raise
    except Exception as exc:  # a last resort: every known failure is checked for above
        reason = show(f"{type(exc).__name__}: {exc}", 200)
        raise CodecError(f"model file does not decode: {reason}") from exc


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


def _decode(
    data: bytes | memoryview, expected: ArchitectureSpec | None, max_bytes: int
) -> tuple[dict[str, np.ndarray], ModelMeta]:
    if len(data) > max_bytes:
        raise ObjectTooLargeError(f"model file is {len(data)} bytes, over the limit {max_bytes}")
    if len(data) < 8:
        raise CodecError(f"truncated model file: {len(data)} bytes, no header length")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > MAX_HEADER_BYTES:
        raise CodecError(f"header length {header_len} is over the limit {MAX_HEADER_BYTES}")
    if 8 + header_len > len(data):
        raise CodecError(f"truncated header: length {header_len} but the file has {len(data)}")
    header = parse_header(bytes(data[8 : 8 + header_len]))
    meta = ModelMeta.from_header(header.pop("__metadata__", None))
    spec, offsets = _layout(header, len(data) - 8 - header_len)
    if expected is not None:
        expected.check(spec)
    base = 8 + header_len
    weights: dict[str, np.ndarray] = {}
    for name, shape, dtype_id in spec.tensors:
        begin, end = offsets[name]
        stored = DTYPES[dtype_id][1]
        count = (end - begin) // stored.itemsize
        if dtype_id == "bool":  # any byte but 0 and 1 is not a bool
            raw = np.frombuffer(data, dtype=np.uint8, count=count, offset=base + begin)
            if np.any(raw > 1):
                raise CodecError(f"tensor {show(name)} holds a bool byte other than 0 or 1")
        array = np.frombuffer(data, dtype=stored, count=count, offset=base + begin)
        array = array.reshape(shape).astype(stored.newbyteorder("="), copy=True)
        if dtype_id == FLOAT and not np.isfinite(array).all():
            raise CodecError(f"tensor {show(name)} contains NaN or Inf")
        weights[name] = array
    if expected is not None and expected.order:
        weights = {name: weights[name] for name in expected.order}
    return weights, meta


def _layout(
    header: dict[str, Any], data_len: int
) -> tuple[ArchitectureSpec, dict[str, tuple[int, int]]]:
    """Check every tensor entry; offsets must tile [0, data_len) exactly."""
    entries: list[tuple[str, tuple[int, ...], str]] = []
    offsets: dict[str, tuple[int, int]] = {}
    for name, info in header.items():
        shape, dtype_id, offsets[name] = _entry(name, info)
        entries.append((name, shape, dtype_id))
    position = 0
    for begin, end in sorted(offsets.values()):
        if begin != position:
            problem = "overlaps" if begin < position else "leaves a gap"
            raise CodecError(f"tensor data {problem} at byte {position} (next tensor at {begin})")
        position = end
    if position != data_len:
        raise CodecError(f"tensor data covers {position} bytes but the file holds {data_len}")
    return ArchitectureSpec(tuple(sorted(entries))), offsets


def _entry(name: str, info: object) -> tuple[tuple[int, ...], str, tuple[int, int]]:
    """One tensor entry's shape, dtype and data offsets, checked against each other."""
    what = f"tensor {show(name)}"
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise CodecError(f"{what}: entry must be an object of dtype, shape and data_offsets")
    code = info["dtype"]
    if not isinstance(code, str) or code not in _BY_CODE:
        raise CodecError(f"{what} has dtype {show(code)}, expected one of {', '.join(_BY_CODE)}")
    dtype_id, stored = _BY_CODE[code]
    shape, span = info["shape"], info["data_offsets"]
    if not _ints(shape) or len(shape) > _MAX_RANK:
        raise CodecError(f"{what}: shape must be at most {_MAX_RANK} non-negative integers")
    if not _ints(span) or len(span) != 2:
        raise CodecError(f"{what}: data_offsets must be two non-negative integers")
    if math.prod(max(d, 1) for d in shape) > _MAX_ELEMENTS:
        raise CodecError(f"{what}: shape {shape} is too large")
    if span[1] - span[0] != stored.itemsize * math.prod(shape):
        raise CodecError(f"{what}: data_offsets {span} do not fit {code} shape {shape}")
    return tuple(shape), dtype_id, (span[0], span[1])


def _ints(values: object) -> bool:
    return isinstance(values, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    )
