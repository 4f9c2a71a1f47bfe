"""Fuzzing the decoder: any bytes decode to the encoded weights or raise a StorageError."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from codec_helpers import META, X, entry, file_of, header
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flchain.exceptions import StorageError
from flchain.storage.cid import CID
from flchain.storage.codec import (
    DTYPES,
    ArchitectureSpec,
    ModelMeta,
    decode_weights,
    encode_weights,
)

FUZZ = settings(
    max_examples=150,
    deadline=2000,  # milliseconds per example
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

WEIGHTS = {
    "a.weight": np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
    "a.bias": np.array([0.5, -2.0, 3.25], np.float32),
    "b": np.zeros((0, 2), np.float32),
}
SPEC = ArchitectureSpec.from_weights(WEIGHTS)
VALID = encode_weights(WEIGHTS, META)
HEADER_END = 8 + int.from_bytes(VALID[:8], "little")
# where a JSON value starts in the valid header: splices there reach the parser
VALUE_STARTS = [i + 1 for i in range(8, HEADER_END) if VALID[i] in b":,[{"]

# Raw JSON no encoder writes, spliced in for these placeholder strings.
RAW = {
    '"@INT@"': "7" * 5000,
    '"@DEEP@"': "[" * 3000 + "]" * 3000,
    '"@OBJ@"': '{"a":' * 1500 + "0" + "}" * 1500,
    '"@NAN@"': "NaN",
    '"@DUP@"': '{"k": 1, "k": 2}',
}
scalars = (
    st.sampled_from(sorted(RAW))
    | st.none()
    | st.booleans()
    | st.integers(-(10**25), 10**25)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
small_ints = st.lists(st.integers(-2, 40) | st.integers(0, 2**70), max_size=4)
entries = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(["F32", "F16", "I64", "I8", "U8", "BOOL"]) | json_values,
        "shape": small_ints | json_values,
        "data_offsets": small_ints | json_values,
    }
)
PARENT = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
meta_fields = {
    "round": st.from_regex(r"[0-9]{1,21}", fullmatch=True)
    | st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=3),
    "author": st.sampled_from([META.author.lower(), META.author + "\n"]) | st.text(max_size=42),
    "architecture": st.text(max_size=300),
    "parent": st.sampled_from(["", PARENT, PARENT.upper(), "z" + PARENT]) | st.text(max_size=60),
}
metas = (
    # the valid metadata with one or two fields changed (so the others pass their checks)
    st.lists(
        st.sampled_from(sorted(meta_fields)).flatmap(
            lambda key: (meta_fields[key] | scalars).map(lambda value: (key, value))
        ),
        min_size=1,
        max_size=2,
    ).map(lambda changes: {**META.to_header(), **dict(changes)})
    | st.dictionaries(st.sampled_from(sorted(meta_fields)), scalars)
    | json_values
)


def _file(head: dict[str, Any], data: bytes = X.tobytes()) -> bytes:
    text = json.dumps(head)
    for placeholder, raw in RAW.items():
        text = text.replace(placeholder, raw)
    return file_of(text.encode(), data)


def _decode(data: bytes, **kwargs: Any) -> tuple[dict[str, np.ndarray], ModelMeta] | None:
    """Decode, or None for a StorageError from a specific check; anything else fails."""
    try:
        return decode_weights(data, **kwargs)
    except StorageError as exc:
        assert not str(exc).startswith("model file does not decode"), exc.__cause__
        return None


def _same(out: dict[str, np.ndarray], weights: dict[str, np.ndarray]) -> None:
    assert sorted(out) == sorted(weights)
    for name, array in weights.items():
        assert out[name].dtype == np.float32 and out[name].shape == array.shape
        np.testing.assert_array_equal(out[name], array)


@FUZZ
@given(
    st.dictionaries(st.text(max_size=6), entries | json_values, max_size=3),
    metas,
    st.binary(max_size=40),
)
def test_random_header_structures(tensors: dict[str, Any], meta: Any, data: bytes) -> None:
    result = _decode(_file(header(meta, **tensors) if tensors else {"__metadata__": meta}, data))
    if result is not None:
        out, _ = result
        floats = [a for a in out.values() if a.dtype == np.float32]
        assert all(np.isfinite(a).all() for a in floats)
        assert all(a.dtype.name in DTYPES for a in out.values())
        assert all(((a == 0) | (a == 1)).all() for a in out.values() if a.dtype == bool)
        assert sum(a.nbytes for a in out.values()) == len(data)


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 300) | st.integers(0, 2**64 - 1))
def test_random_bytes(body: bytes, length: int) -> None:
    assert _decode(body) is None
    assert _decode(length.to_bytes(8, "little") + body) is None


@FUZZ
@given(st.data())
def test_mutations_of_a_valid_update(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["flip", "truncate", "splice"]))
    raw = bytearray(VALID)
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 3))):
            pos, bit = data.draw(st.integers(0, len(raw) - 1)), data.draw(st.integers(0, 7))
            raw[pos] ^= 1 << bit
    elif kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        begin = data.draw(st.sampled_from(VALUE_STARTS) | st.integers(8, HEADER_END))
        end = data.draw(st.integers(begin, min(begin + 70, HEADER_END)))
        raw[begin:end] = splice = data.draw(
            st.binary(max_size=30)
            | st.sampled_from([b"[", b"{", b'"', b"\\", b",", b'"shape":[1,2]', b"\xff", b"2.5"])
            | st.sampled_from(sorted(RAW.values())).map(str.encode)
            | st.builds(lambda v: json.dumps(v).encode(), json_values)
        )
        if data.draw(st.booleans()):  # keep the header length right, so the data still follows
            raw[:8] = (HEADER_END - 8 + len(splice) - (end - begin)).to_bytes(8, "little")
    result = _decode(bytes(raw), expected=SPEC)
    if result is None:
        return
    assert kind != "truncate"
    out, _ = result
    # A header that still decodes to SPEC keeps the layout (names sorted, packed in order), so
    # the tensors are exactly the data bytes: the encoded weights where those were untouched.
    data_start = 8 + int.from_bytes(raw[:8], "little")
    flat = np.concatenate([out[name].ravel() for name in sorted(out)])
    np.testing.assert_array_equal(flat, np.frombuffer(bytes(raw), "<f4", offset=data_start))
    if raw[data_start:] == VALID[HEADER_END:]:
        _same(out, WEIGHTS)


@FUZZ
@given(metas)
@example({**META.to_header(), "round": "\u00b2"})
@example({**META.to_header(), "round": "\u0663"})
def test_random_metadata(meta: Any) -> None:
    result = _decode(_file({"__metadata__": meta, "x": entry()}))
    if result is not None:
        out, decoded = result
        _same(out, {"x": X})
        assert meta["round"].isascii() and decoded.round == int(meta["round"])
        assert decoded.author == meta["author"]
        assert decoded.architecture == meta["architecture"]
        assert decoded.parent == (CID.parse(meta["parent"]).encode() if meta["parent"] else None)
