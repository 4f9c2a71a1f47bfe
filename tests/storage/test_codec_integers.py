"""Integer buffers in model files: exact dtypes both ways, and lies about them refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from batchnorm_net import BatchNormNet, trained_batchnorm_net
from codec_helpers import META, entry, file_of, header
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from flchain.exceptions import CodecError, StorageError
from flchain.learning.weights import get_weights, set_weights
from flchain.storage import LocalStore
from flchain.storage.codec import (
    DTYPES,
    ArchitectureSpec,
    decode_weights,
    decode_weights_from_store,
    encode_weights,
)

LIMITS = {
    name: np.array([np.iinfo(dtype).min, 0, 1, np.iinfo(dtype).max], dtype=dtype)
    for name, (_, dtype) in DTYPES.items()
    if dtype.kind in "iu"
}


def test_every_integer_dtype_round_trips_exactly_and_is_standard_safetensors() -> None:
    weights = {"w": np.linspace(-1, 1, 6, dtype=np.float32), **LIMITS}
    weights["flags"] = np.array([[True, False], [False, True]])
    data = encode_weights(weights, META)
    out, _ = decode_weights(data)
    theirs = st_load(data)
    for name, array in weights.items():
        assert out[name].dtype == array.dtype, name
        assert out[name].tobytes() == array.tobytes(), name
        assert theirs[name].dtype == array.dtype and theirs[name].tobytes() == array.tobytes()
    foreign = st_save(weights, metadata=META.to_header())
    assert {k: v.tobytes() for k, v in decode_weights(foreign)[0].items()} == {
        k: v.tobytes() for k, v in weights.items()
    }


def test_float_only_files_are_unchanged_by_integer_support() -> None:
    """The bytes of a float model are what they always were: F32 only, same layout."""
    weights = {"b": np.ones(2, np.float32), "a": np.arange(3, dtype=np.float32)}
    data = encode_weights(weights, META)
    assert b'"dtype":"I' not in data and data.count(b'"dtype":"F32"') == 2
    spec = ArchitectureSpec.from_weights(weights)
    assert spec.tensors == (("a", (3,), "float32"), ("b", (2,), "float32"))
    assert spec == ArchitectureSpec.from_shapes({"a": (3,), "b": (2,)})


def test_batchnorm_model_round_trips_bit_exactly_through_the_store(tmp_path: Path) -> None:
    model = trained_batchnorm_net(0)
    state = model.state_dict()
    assert state["bn.num_batches_tracked"].item() == 3
    weights = get_weights(model)
    assert list(weights) == list(state)  # the state dict's own order
    assert weights["bn.num_batches_tracked"].dtype == np.int64
    assert weights["mask"].dtype == np.bool_ and weights["counts"].dtype == np.int32
    spec = ArchitectureSpec.from_weights(weights)
    store = LocalStore(tmp_path / "store")
    cid = store.put(encode_weights(weights, META), pin=True)
    assert cid in store.pins()
    out, meta = decode_weights_from_store(LocalStore(tmp_path / "store"), cid, expected=spec)
    assert meta == META
    assert list(out) == list(state)  # names and order given back
    fresh = BatchNormNet()
    set_weights(fresh, out)
    for (name, before), (again, after) in zip(
        state.items(), fresh.state_dict().items(), strict=True
    ):
        assert name == again and before.dtype == after.dtype, name
        assert before.numpy().tobytes() == after.numpy().tobytes(), name


def _int_file(code: str, shape: tuple[int, ...], raw: bytes) -> bytes:
    return file_of(header(n=entry(shape, (0, len(raw)), code)), raw)


@pytest.mark.parametrize(
    ("code", "shape", "raw", "match"),
    [
        # a size that does not fit the dtype it claims
        ("I64", (3,), np.arange(3, dtype="<i4").tobytes(), "do not fit I64 shape"),
        ("I32", (3,), np.arange(3, dtype="<i8").tobytes(), "do not fit I32 shape"),
        ("BOOL", (2,), np.zeros(2, dtype="<i2").tobytes(), "do not fit BOOL shape"),
        ("U8", (2,), b"\x01\x02\x03", "do not fit U8 shape"),
        # bytes no bool can hold
        ("BOOL", (3,), b"\x00\x01\x02", "bool byte other than 0 or 1"),
        ("BOOL", (1,), b"\xff", "bool byte other than 0 or 1"),
    ],
)
def test_integer_tensors_that_lie_about_their_size_are_refused(
    code: str, shape: tuple[int, ...], raw: bytes, match: str
) -> None:
    with pytest.raises(CodecError, match=match) as info:
        decode_weights(_int_file(code, shape, raw))
    assert isinstance(info.value, StorageError)
    assert "'n'" in str(info.value)


@pytest.mark.parametrize(
    ("code", "raw", "found"),
    [
        ("I32", np.arange(4, dtype="<i4").tobytes(), "int32[4]"),  # same bytes, other type
        ("F32", np.arange(4, dtype="<f4").tobytes(), "float32[4]"),  # a float passing as int
        ("U32", np.arange(4, dtype="<u4").tobytes(), "uint32[4]"),
        ("I64", np.arange(2, dtype="<i8").tobytes(), "int64[2]"),  # right kind, wrong shape
    ],
)
def test_a_dtype_other_than_the_architecture_says_is_refused(
    code: str, raw: bytes, found: str
) -> None:
    spec = ArchitectureSpec.from_weights({"n": np.zeros(4, np.int32).astype(np.int64)})
    shape = (len(raw) // DTYPES[_name(code)][1].itemsize,)
    with pytest.raises(CodecError, match="wrong architecture") as info:
        decode_weights(_int_file(code, shape, raw), expected=spec)
    assert f"tensor 'n' is {found}, expected int64[4]" in str(info.value)


def _name(code: str) -> str:
    return next(name for name, (c, _) in DTYPES.items() if c == code)


def test_a_model_sending_an_integer_buffer_as_float_is_refused() -> None:
    spec = ArchitectureSpec.from_weights(get_weights(trained_batchnorm_net(1)))
    lying: dict[str, Any] = get_weights(trained_batchnorm_net(2))
    lying["bn.num_batches_tracked"] = lying["bn.num_batches_tracked"].astype(np.float32)
    with pytest.raises(CodecError, match=re.escape("'bn.num_batches_tracked' is float32[]")):
        decode_weights(encode_weights(lying, META), expected=spec)
