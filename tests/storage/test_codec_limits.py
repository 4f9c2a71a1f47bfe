"""Crafted model files: each is refused with a StorageError naming what was wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from codec_helpers import META, X, entry, file_of, header

from flchain.exceptions import CodecError, HeaderError, StorageError
from flchain.storage.codec import ArchitectureSpec, decode_weights, encode_weights
from flchain.storage.header import MAX_HEADER_BYTES, MAX_HEADER_TOKENS

DEEP = 200_000

DEEP_DECODE = f"""
import sys, web3
from flchain.exceptions import StorageError
from flchain.storage.codec import decode_weights
print("recursion limit", sys.getrecursionlimit())
for text in (b'{{"a":' * {DEEP} + b'1' + b'}}' * {DEEP}, b'[' * {DEEP} + b']' * {DEEP}):
    try:
        decode_weights(len(text).to_bytes(8, "little") + text)
    except StorageError as exc:
        print(type(exc).__name__, exc)
"""


def _refused(data: bytes, match: str, error: type[StorageError] = CodecError) -> str:
    with pytest.raises(error, match=match) as info:
        decode_weights(data)
    assert not str(info.value).startswith("model file does not decode"), "not a specific check"
    return str(info.value)


def test_deep_nesting_is_refused_without_crashing_after_web3_raised_the_recursion_limit() -> None:
    out = subprocess.run(
        [sys.executable, "-c", DEEP_DECODE], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    lines = out.stdout.splitlines()
    assert len(lines) == 3, out.stdout
    for line in lines[1:]:
        assert line.startswith("HeaderError header nests") and "over the limit 3" in line


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    arch = '[[[[{{{{ "[[[[ \\'  # json.dumps escapes the quote and the backslash
    meta = {**META.to_header(), "architecture": arch}
    out, meta_out = decode_weights(file_of(header(meta)))
    assert meta_out.architecture == arch
    np.testing.assert_array_equal(out["x"], X)


@pytest.mark.parametrize("text", ["²", "٣", "+3", " 3", "3\n", "", "-1", "3.0", "0x3"])
def test_round_must_be_ascii_digits(text: str) -> None:
    _refused(file_of(header({**META.to_header(), "round": text})), "round")


def test_round_is_bounded_in_length_and_value() -> None:
    _refused(file_of(header({**META.to_header(), "round": "9" * 19})), "over the limit")
    _refused(file_of(header({**META.to_header(), "round": "1" * 5000})), "round is over 256")


@pytest.mark.parametrize("field", ["shape", "data_offsets"])
def test_5000_digit_integers_are_refused(field: str) -> None:
    for digits in ("1" * 5000, "-" + "1" * 5000, "1" * 20):
        bad = json.dumps(header()).replace('"' + field + '": [', f'"{field}": [{digits}, ')
        _refused(file_of(bad.encode()), "integer of", HeaderError)


@pytest.mark.parametrize(
    ("length", "match"),
    [
        ((1 << 64) - 1, "over the limit"),
        (MAX_HEADER_BYTES + 1, "over the limit"),
        (MAX_HEADER_BYTES, "truncated header"),
        (10_000, "truncated header"),
    ],
)
def test_huge_header_length_claims_are_refused(length: int, match: str) -> None:
    data = file_of(header())
    _refused(length.to_bytes(8, "little") + data[8:], match)


@pytest.mark.parametrize(
    ("tensors", "match"),
    [
        ({"x": entry(offsets=(-16, 0))}, "non-negative"),
        ({"x": entry(offsets=(16, 0))}, "do not fit"),
        ({"x": entry(offsets=(0, 16, 32))}, "two non-negative"),
        ({"x": entry(offsets=(8, 24))}, "gap at byte 0"),
        ({"x": entry(offsets=(0, 32), shape=(8,))}, "covers 32 bytes but the file holds 16"),
        ({"x": entry((2,), (0, 8)), "y": entry((2,), (4, 12))}, "overlaps at byte 8"),
        ({"x": entry((4,), (0, 16)), "y": entry((4,), (0, 16))}, "overlaps"),
        ({"x": entry(shape=(-4,))}, "shape must be"),
        ({"x": entry(shape=[1] * 33)}, "at most 32"),
        ({"x": entry(shape=(2**62, 2**62, 0), offsets=(0, 0))}, "too large"),
        ({"x": entry(shape=(10**18, 10**18), offsets=(0, 0))}, "too large"),
        ({"x": entry(shape=(True, 4))}, "shape must be"),
        ({"x": [1, 2]}, "entry must be an object"),
        ({"x": {**entry(), "extra": 1}}, "entry must be an object"),
    ],
)
def test_bad_offsets_and_shapes_are_refused(tensors: dict[str, Any], match: str) -> None:
    _refused(file_of(header(**tensors)), match)


def test_shape_product_overflow_cannot_pass_as_zero_bytes() -> None:
    shape = (2**40, 2**40, 2**40, 0)  # int64 products wrap; Python's do not, and we bound them
    _refused(file_of(header(x=entry(shape=shape, offsets=(0, 0))), b""), "too large")


@pytest.mark.parametrize("dtype", ["F16", "BF16", "F64", "i64", 5, None, ["F32"], {"F32": 1}])
def test_unknown_dtypes_are_refused(dtype: Any) -> None:
    _refused(file_of(header(x=entry(dtype=dtype))), "expected one of F32, I64, ")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_anywhere_in_the_header_is_refused(constant: str) -> None:
    text = json.dumps(header()).replace('"round": "3"', f'"round": {constant}')
    _refused(file_of(text.encode()), "not standard JSON", HeaderError)
    text = json.dumps(header()).replace('"shape": [4]', f'"shape": [{constant}]')
    _refused(file_of(text.encode()), "not standard JSON", HeaderError)


def test_fractions_are_refused() -> None:
    text = json.dumps(header()).replace('"shape": [4]', '"shape": [4.0]')
    _refused(file_of(text.encode()), "non-integer number", HeaderError)


@pytest.mark.parametrize(
    "text",
    [
        b'{"\xff": 1}',
        b'{"__metadata__": {"round": "\xc3"}}',
        json.dumps(header()).encode("utf-16"),
        json.dumps(header()).encode("utf-32"),
    ],
)
def test_non_utf8_headers_are_refused(text: bytes) -> None:
    _refused(file_of(text), "not UTF-8", HeaderError)


def test_lone_surrogates_are_refused() -> None:
    _refused(file_of(header(**{"\ud800": entry()})), "surrogate", HeaderError)


@pytest.mark.parametrize("value", [[], "x", 5, None, True, [{"x": 1}]])
def test_non_object_headers_are_refused(value: object) -> None:
    text = json.dumps(value).encode()
    _refused(file_of(text), "not an object", HeaderError)


@pytest.mark.parametrize(
    ("key", "value"),
    [("round", 3), ("author", None), ("architecture", {}), ("parent", []), ("round", False)],
)
def test_metadata_values_must_be_strings(key: str, value: object) -> None:
    _refused(file_of(header({**META.to_header(), key: value})), f"{key} is .*not a string")


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("author", "0x" + "ab" * 20 + "\n", "not an address"),
        ("parent", "z" + "2" * 5000, "parent is over 256"),
        ("architecture", "a" * 257, "architecture is over 256"),
    ],
)
def test_metadata_strings_are_bounded(key: str, value: str, match: str) -> None:
    _refused(file_of(header({**META.to_header(), key: value})), match)


def test_duplicate_keys_are_refused() -> None:
    text = json.dumps(header()).encode()
    _refused(file_of(text[:-1] + b', "x": {}}'), "'x' twice", HeaderError)


def test_too_many_tokens_are_refused_before_parsing() -> None:
    text = b'{"x": [' + b"0," * MAX_HEADER_TOKENS + b"0]}"
    _refused(file_of(text), "brackets and separators", HeaderError)


def test_long_names_do_not_make_long_messages() -> None:
    name = "n" * 1_000_000
    message = _refused(file_of(header(**{name: entry(dtype="F16")})), "expected one of F32")
    assert len(message) < 300
    many = {f"t{i}": entry((1,), (4 * i, 4 * i + 4)) for i in range(100)}
    spec = ArchitectureSpec.from_weights({"x": X})
    with pytest.raises(CodecError, match="and 81 more") as info:
        decode_weights(file_of(header(**many), np.zeros(100, np.float32).tobytes()), expected=spec)
    assert len(str(info.value)) < 1000


def test_valid_files_still_decode_exactly() -> None:
    weights = {"a": np.ones((2, 3), np.float32), "empty": np.zeros((0, 5), np.float32)}
    out, meta = decode_weights(encode_weights(weights, META))
    assert meta == META
    for name, array in weights.items():
        np.testing.assert_array_equal(out[name], array)
        assert out[name].shape == array.shape
