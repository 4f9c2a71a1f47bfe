"""Compression in the run path: the spec's setting, what a client pins, and a strict decoder."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from flchain.exceptions import (
    CodecError,
    CompressedUpdateError,
    ConfigError,
    ObjectTooLargeError,
)
from flchain.learning.compression import Compressor, apply_delta, decompress
from flchain.learning.weights import weights_equal
from flchain.storage.builder import compute_cid
from flchain.storage.codec import ArchitectureSpec, ModelMeta, encode_weights
from flchain.task.aggregate import GlobalModel
from flchain.task.compression import (
    compression_rng,
    compression_setting,
    compressor_for,
    decode_update,
    encode_update,
)
from flchain.task.spec import ScoreRules, TaskSpec
from flchain.types import Address, RoundId, Weights

AUTHOR = Address("0x" + "ab" * 20)
GLOBAL: Weights = {
    "a.weight": np.full((40, 30), 0.5, dtype=np.float32),
    "a.bias": np.zeros(30, dtype=np.float32),
    "bn.num_batches_tracked": np.array(7, dtype=np.int64),
}
N = 40 * 30 + 30  # the float parameter count
ARCH = ArchitectureSpec.from_weights(GLOBAL)


def _model(weights: Weights = GLOBAL) -> GlobalModel:
    meta = ModelMeta(RoundId(0), AUTHOR, "mlp", None)
    return GlobalModel(0, compute_cid(encode_weights(weights, meta)).encode(), weights)


PARENT = _model()
OTHER = _model({**GLOBAL, "a.bias": np.ones(30, dtype=np.float32)})
META = ModelMeta(RoundId(0), AUTHOR, "mlp", PARENT.cid)


def _local(seed: int = 1) -> Weights:
    rng = np.random.default_rng(seed)
    out = {k: (v + 0.1 * rng.normal(size=v.shape)).astype(v.dtype) for k, v in GLOBAL.items()}
    out["bn.num_batches_tracked"] = np.array(9, dtype=np.int64)
    return out


def _spec(compression: str = "", **scoring: Any) -> TaskSpec:
    return TaskSpec(compression=compression, scoring=ScoreRules(**scoring))


def _decode(data: bytes, compression: str, parent: GlobalModel | None = PARENT) -> Weights:
    return decode_update(data, spec=_spec(compression), arch=ARCH, parent=parent)[0]


def _file(compression: str, meta: ModelMeta = META, **arrays: np.ndarray) -> bytes:
    """A hand-made compressed update file holding ``arrays``."""
    return encode_weights(arrays, replace(meta, compression=compression))


# --- the setting -------------------------------------------------------------------


def test_a_spec_without_compression_keeps_its_bytes_and_with_it_round_trips() -> None:
    plain = TaskSpec()
    assert b"compression" not in plain.to_json()
    for setting in ("topk:0.1", "q8"):
        spec = TaskSpec(compression=setting)
        assert json.loads(spec.to_json())["compression"] == setting
        assert TaskSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("TOPK:0.10", "must be written 'topk:0.1'"),
        ("gzip", "unknown compression 'gzip'"),
        ("topk:2", "must be in (0, 1]"),
    ],
)
def test_a_spec_refuses_a_setting_it_does_not_know_or_not_written_canonically(
    setting: str, needle: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        TaskSpec(compression=setting)
    assert needle in str(caught.value)


def test_settings_are_made_canonical_and_none_is_off() -> None:
    assert compression_setting(" TOPK:0.10 ") == "topk:0.1"
    assert compression_setting("topk") == "topk:0.1"
    assert compression_setting("q8") == "q8"
    assert [compression_setting(s) for s in ("", "none", "OFF")] == ["", "", ""]
    with pytest.raises(ConfigError, match="must be a string"):
        compression_setting(0.1)  # type: ignore[arg-type]


# --- encode and decode ------------------------------------------------------------


def test_without_compression_a_client_pins_its_weights_as_before() -> None:
    local = _local()
    data = encode_update(None, GLOBAL, local, META, compression_rng(_spec(), 0, 0))
    assert data == encode_weights(local, META)
    weights, meta = decode_update(data, spec=_spec(), arch=ARCH, parent=PARENT)
    assert weights_equal(weights, local) and meta == META


@pytest.mark.parametrize("setting", ["topk:0.1", "q8"])
def test_a_compressed_update_is_smaller_and_decodes_to_the_senders_own_view(setting: str) -> None:
    spec, local = _spec(setting), _local()
    compressor = compressor_for(spec)
    assert compressor is not None
    twin = Compressor.parse(setting)
    data = encode_update(compressor, GLOBAL, local, META, compression_rng(spec, 0, 0))
    assert len(data) < 0.3 * len(encode_weights(local, META))
    weights, meta = decode_update(data, spec=spec, arch=ARCH, parent=PARENT)
    assert meta == replace(META, compression=setting)
    assert list(weights) == list(GLOBAL)  # the architecture's order
    # what the receiver rebuilds is what the sender's own compressor sent
    expected = twin.compress(GLOBAL, local, compression_rng(spec, 0, 0))
    assert weights_equal(weights, decompress(GLOBAL, expected))
    assert weights["bn.num_batches_tracked"] == 7  # integer buffers are the global model's
    assert np.abs(weights["a.weight"] - local["a.weight"]).max() < 0.5


def test_top_k_keeps_its_budget_and_remembers_the_rest_for_the_next_round() -> None:
    spec = _spec("topk:0.1")
    compressor = compressor_for(spec)
    assert compressor is not None
    data = encode_update(compressor, GLOBAL, _local(), META, compression_rng(spec, 0, 0))
    sent = _decode(data, "topk:0.1")
    changed = sum(int((sent[k] != GLOBAL[k]).sum()) for k in ("a.weight", "a.bias"))
    assert changed == round(0.1 * N)
    assert compressor.residual is not None and np.count_nonzero(compressor.residual) == N - changed


def test_q8_randomness_is_the_clients_and_decoding_is_pure() -> None:
    spec = _spec("q8")
    compressor = Compressor.parse("q8")
    one = encode_update(compressor, GLOBAL, _local(), META, compression_rng(spec, 0, 0))
    again = encode_update(compressor, GLOBAL, _local(), META, compression_rng(spec, 0, 0))
    other = encode_update(compressor, GLOBAL, _local(), META, compression_rng(spec, 1, 0))
    assert one == again and one != other
    first, second = _decode(one, "q8"), _decode(one, "q8")
    assert weights_equal(first, second)


# --- every malformed input, with its reason ------------------------------------------


def _topk(**override: np.ndarray) -> bytes:
    arrays = {
        "indices": np.array([1, 5, 9], dtype=np.uint32),
        "values": np.array([0.1, -0.2, 0.3], dtype=np.float32),
    }
    return _file("topk:0.1", **{**arrays, **override})


def _q8(meta: ModelMeta = META, **override: np.ndarray) -> bytes:
    arrays = {
        "codes": np.zeros(N, dtype=np.uint8),
        "ranges": np.array([[-0.1, 0.001]], dtype=np.float32),
    }
    return _file("q8", meta, **{**arrays, **override})


BIG = np.float32(3e38)
REJECTED = [
    (
        "plain file, compressed task",
        lambda: encode_weights(_local(), META),
        "topk:0.1",
        "update is not compressed; this task's updates are topk:0.1",
    ),
    (
        "compressed file, plain task",
        lambda: encode_weights(_local(), replace(META, compression="q8")),
        "",
        "update is compressed (q8); this task's updates are plain weights",
    ),
    (
        "another scheme",
        lambda: _q8(),
        "topk:0.1",
        "update is compressed as q8; this task's updates are topk:0.1",
    ),
    (
        "another fraction",
        lambda: _file("topk:0.2", indices=np.zeros(0, np.uint32), values=np.zeros(0, np.float32)),
        "topk:0.1",
        "update is compressed as topk:0.2; this task's updates are topk:0.1",
    ),
    (
        "another parent",
        lambda: _topk(),
        "topk:0.1",
        f"update is compressed against {PARENT.cid}, not the round's global model {OTHER.cid}",
    ),
    (
        "missing array",
        lambda: _file("topk:0.1", indices=np.array([1], dtype=np.uint32)),
        "topk:0.1",
        "topk update must hold exactly the arrays ('indices', 'values')",
    ),
    (
        "extra array",
        lambda: _topk(extra=np.zeros(1, np.float32)),
        "topk:0.1",
        "topk update must hold exactly the arrays ('indices', 'values')",
    ),
    (
        "indices of another dtype",
        lambda: _topk(indices=np.array([1, 5, 9], dtype=np.int64)),
        "topk:0.1",
        "topk indices are int64, not uint32",
    ),
    (
        "over the budget",
        lambda: _topk(
            indices=np.arange(124, dtype=np.uint32), values=np.ones(124, dtype=np.float32)
        ),
        "topk:0.1",
        f"top-k update keeps 124 values, over the task's 123 (topk:0.1 of {N})",
    ),
    (
        "index out of range",
        lambda: _topk(indices=np.array([1, 5, N], dtype=np.uint32)),
        "topk:0.1",
        f"top-k index {N} out of range for {N} values",
    ),
    (
        "indices repeated",
        lambda: _topk(indices=np.array([1, 5, 5], dtype=np.uint32)),
        "topk:0.1",
        "top-k indices are not strictly increasing",
    ),
    (
        "indices unsorted",
        lambda: _topk(indices=np.array([5, 1, 9], dtype=np.uint32)),
        "topk:0.1",
        "top-k indices are not strictly increasing",
    ),
    (
        "lengths differ",
        lambda: _topk(values=np.array([0.1, 0.2], dtype=np.float32)),
        "topk:0.1",
        "top-k indices [3] and values [2] must be two vectors of the same length",
    ),
    (
        "indices not a vector",
        lambda: _topk(
            indices=np.array([[1, 5, 9]], dtype=np.uint32),
            values=np.array([[0.1, 0.2, 0.3]], dtype=np.float32),
        ),
        "topk:0.1",
        "top-k indices [1, 3] and values [1, 3] must be two vectors of the same length",
    ),
    (
        "too few codes",
        lambda: _q8(codes=np.zeros(N - 1, dtype=np.uint8)),
        "q8",
        f"8-bit update has codes [{N - 1}], expected [{N}]",
    ),
    (
        "ranges of another shape",
        lambda: _q8(ranges=np.zeros((2, 2), dtype=np.float32)),
        "q8",
        "8-bit update has ranges [2, 2], expected [1, 2]",
    ),
    (
        "a negative scale",
        lambda: _q8(ranges=np.array([[0.0, -1.0]], dtype=np.float32)),
        "q8",
        "8-bit ranges have a negative scale",
    ),
    (
        "values beyond float32",
        lambda: _q8(
            codes=np.full(N, 255, dtype=np.uint8), ranges=np.array([[BIG, BIG]], np.float32)
        ),
        "q8",
        "8-bit update decodes to values beyond float32",
    ),
]


@pytest.mark.parametrize(
    ("make", "setting", "reason"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_a_malformed_update_is_refused_with_its_reason(
    make: Any, setting: str, reason: str
) -> None:
    global_model = OTHER if "against" in reason else PARENT  # the file names PARENT
    with pytest.raises(CompressedUpdateError) as caught:
        _decode(make(), setting, global_model)
    assert str(caught.value) == reason


def test_the_codec_refuses_what_it_checks_before_compression_is_looked_at() -> None:
    two, nan = np.float32(-0.2).tobytes(), np.float32(np.nan).tobytes()
    nan = _topk().replace(two, nan)
    with pytest.raises(CodecError, match="tensor 'values' contains NaN or Inf"):
        _decode(nan, "topk:0.1")
    small = _spec("q8", max_update_bytes=100)
    with pytest.raises(ObjectTooLargeError, match="over the limit 100"):
        decode_update(_q8(), spec=small, arch=ARCH, parent=PARENT)


def test_an_update_whose_global_model_is_unknown_cannot_be_decompressed() -> None:
    with pytest.raises(CompressedUpdateError) as caught:
        _decode(_topk(), "topk:0.1", None)
    assert str(caught.value) == "the global model it was compressed against is unknown"


def test_a_valid_hand_made_top_k_update_decodes_to_exactly_its_values() -> None:
    weights = _decode(_topk(), "topk:0.1")
    delta = np.zeros(N, dtype=np.float32)
    delta[[1, 5, 9]] = [0.1, -0.2, 0.3]
    assert weights_equal(weights, apply_delta(GLOBAL, delta))


def test_an_update_must_name_its_global_model() -> None:
    bad = _q8(meta=replace(META, parent=None))
    with pytest.raises(CompressedUpdateError) as caught:
        _decode(bad, "q8")
    assert str(caught.value) == "update names no global model it was compressed against"


def test_a_rebuilt_model_beyond_float32_is_refused() -> None:
    huge = _model({"w": np.full(4, BIG, dtype=np.float32)})
    data = _file(
        "q8",
        replace(META, parent=huge.cid),
        codes=np.zeros(4, np.uint8),
        ranges=np.array([[BIG, 0.0]], np.float32),
    )
    spec, arch = _spec("q8"), ArchitectureSpec.from_weights(huge.weights)
    with pytest.raises(CompressedUpdateError) as caught:
        decode_update(data, spec=spec, arch=arch, parent=huge)
    assert str(caught.value) == "decompressed model contains NaN or Inf"
