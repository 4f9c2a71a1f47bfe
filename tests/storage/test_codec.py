"""The model codec: deterministic bytes, standard safetensors, strict decoding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from flchain.exceptions import CodecError, ObjectTooLargeError
from flchain.storage import LocalStore, compute_cid
from flchain.storage.codec import (
    ArchitectureSpec,
    ModelMeta,
    decode_weights,
    decode_weights_from_store,
    encode_weights,
)
from flchain.types import Address, CIDStr, RoundId

AUTHOR = Address("0x" + "ab" * 20)
PARENT = CIDStr("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
META = ModelMeta(RoundId(3), AUTHOR, "mlp-3", PARENT)


def _weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "layer2.weight": rng.standard_normal((10, 32)).astype(np.float32),
        "layer1.bias": rng.standard_normal(32).astype(np.float32),
        "layer1.weight": rng.standard_normal((32, 40)).astype(np.float32),
        "layer2.bias": rng.standard_normal(10).astype(np.float32),
    }


def test_round_trip_restores_tensors_and_metadata() -> None:
    weights = _weights()
    out, meta = decode_weights(encode_weights(weights, META))
    assert meta == META
    assert sorted(out) == sorted(weights)
    for name, array in weights.items():
        assert out[name].dtype == np.float32
        np.testing.assert_array_equal(out[name], array)
    out["layer1.bias"] += 1  # decoded arrays are the caller's own


def test_encoding_is_deterministic_across_insertion_order_and_processes() -> None:
    weights = _weights()
    reordered = dict(reversed(list(weights.items())))
    a, b = encode_weights(weights, META), encode_weights(reordered, META)
    assert a == b
    code = (
        "import sys, numpy as np;"
        "from flchain.storage.codec import ModelMeta, encode_weights;"
        "rng = np.random.default_rng(0);"
        "w = {'x': rng.standard_normal((3, 4)).astype(np.float32)};"
        f"m = ModelMeta(1, {AUTHOR!r}, 'a', None);"
        "sys.stdout.buffer.write(encode_weights(w, m))"
    )
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True).stdout for _ in "ab"}
    assert len(runs) == 1 and len(next(iter(runs))) > 8


def test_safetensors_reads_our_files_and_we_read_its_files() -> None:
    weights = _weights()
    theirs = st_load(encode_weights(weights, META))
    for name, array in weights.items():
        np.testing.assert_array_equal(theirs[name], array)
    foreign = st_save(weights, metadata=META.to_header())
    out, meta = decode_weights(foreign)
    assert meta == META and sorted(out) == sorted(weights)


def test_metadata_is_in_fixed_order() -> None:
    data = encode_weights(_weights(), META)
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    assert list(header["__metadata__"]) == ["round", "author", "architecture", "parent"]
    assert list(header)[1:] == sorted(_weights())


def test_float64_is_stored_as_float32_and_other_kinds_are_refused() -> None:
    w64 = {k: v.astype(np.float64) for k, v in _weights().items()}
    assert encode_weights(w64, META) == encode_weights(_weights(), META)
    for bad in (np.array([1 + 2j]), np.array(["a"]), np.array([1], dtype=object)):
        with pytest.raises(CodecError, match=r"tensor 'x': dtype .* is not storable"):
            encode_weights({"x": bad}, META)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused_both_ways(bad: float) -> None:
    weights = _weights()
    weights["layer1.bias"][3] = bad
    with pytest.raises(CodecError, match="NaN or Inf"):
        encode_weights(weights, META)
    foreign = st_save(weights, metadata=META.to_header())
    with pytest.raises(CodecError, match="NaN or Inf"):
        decode_weights(foreign)


def test_wrong_architecture_names_every_difference() -> None:
    spec = ArchitectureSpec.from_weights(_weights())
    other = _weights()
    other["layer1.weight"] = other["layer1.weight"][:, :39].copy()
    del other["layer2.bias"]
    other["extra"] = np.zeros(2, np.float32)
    with pytest.raises(CodecError) as err:
        decode_weights(encode_weights(other, META), expected=spec)
    text = str(err.value)
    assert "missing tensor 'layer2.bias'" in text
    assert "unexpected tensor 'extra'" in text
    assert "layer1.weight" in text and "[32, 39]" in text
    decode_weights(encode_weights(_weights(1), META), expected=spec)  # same architecture


def test_oversize_is_refused_before_parsing() -> None:
    data = encode_weights(_weights(), META)
    with pytest.raises(ObjectTooLargeError):
        decode_weights(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d[:5],  # no header length
        lambda d: d[:40],  # header cut short
        lambda d: d[:-4],  # data cut short
        lambda d: d + b"\0" * 4,  # trailing bytes
        lambda d: (8).to_bytes(8, "little") + b"not json",
        lambda d: (2).to_bytes(8, "little") + b"[]",
        lambda d: (1 << 40).to_bytes(8, "little") + d[8:],
    ],
)
def test_malformed_files_are_codec_errors(mangle: object) -> None:
    data = encode_weights(_weights(), META)
    with pytest.raises(CodecError):
        decode_weights(mangle(data))  # type: ignore[operator]


def test_bad_metadata_and_dtypes_are_codec_errors() -> None:
    weights = {"x": np.ones(2, np.float32)}
    with pytest.raises(CodecError, match="keys"):
        decode_weights(st_save(weights))
    with pytest.raises(CodecError, match="author"):
        decode_weights(st_save(weights, metadata={**META.to_header(), "author": "bob"}))
    with pytest.raises(CodecError, match="parent"):
        decode_weights(st_save(weights, metadata={**META.to_header(), "parent": "nope"}))
    with pytest.raises(CodecError, match="F32"):
        decode_weights(st_save({"x": np.ones(2, np.float64)}, metadata=META.to_header()))


def test_from_store_checks_size_from_the_root_first(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    data = encode_weights(_weights(), META)
    cid = store.put(data)
    assert cid == compute_cid(data).encode()
    spec = ArchitectureSpec.from_weights(_weights())
    out, meta = decode_weights_from_store(store, cid, expected=spec)
    assert meta == META and sorted(out) == sorted(_weights())
    with pytest.raises(ObjectTooLargeError):
        decode_weights_from_store(store, cid, max_bytes=len(data) - 1)


def test_architecture_fingerprint_is_stable() -> None:
    a = ArchitectureSpec.from_weights(_weights(0)).fingerprint()
    assert a == ArchitectureSpec.from_weights(_weights(1)).fingerprint()
    assert a.startswith("arch-")
    shapes = {k: v.shape for k, v in _weights().items()}
    assert ArchitectureSpec.from_shapes(shapes).fingerprint() == a
