"""Top-k with error feedback and 8-bit quantisation: compact, faithful, and strict on input."""

from __future__ import annotations

import numpy as np
import pytest

from flchain.exceptions import CompressionError, ConfigError
from flchain.learning.compression import (
    Compressor,
    Payload,
    decode_q8,
    decode_topk,
    decompress,
    encode_q8,
    encode_topk,
    expand,
    pack,
    q8_payload,
    topk_count,
    topk_payload,
)
from flchain.learning.weights import flatten


def test_topk_keeps_the_largest_entries_exactly() -> None:
    v = np.array([0.1, -5.0, 0.0, 3.0, -0.2, 2.5], dtype=np.float32)
    blob = encode_topk(v, 3)
    assert len(blob) == 20 + 8 * 3
    np.testing.assert_array_equal(decode_topk(blob), [0, -5.0, 0, 3.0, 0, 2.5])


def test_error_feedback_sends_everything_eventually() -> None:
    rng = np.random.default_rng(0)
    g = {"w": np.zeros(1000, np.float32)}
    comp = Compressor.parse("topk:0.05")
    sent_total = np.zeros(1000)
    true_total = np.zeros(1000)
    for _ in range(60):
        local = {"w": rng.normal(size=1000).astype(np.float32)}
        true_total += local["w"]
        sent_total += flatten(decompress(g, comp.compress(g, local, rng)))
    assert comp.residual is not None
    # what was sent plus what is still owed equals everything (up to float32 rounding)
    np.testing.assert_allclose(sent_total + comp.residual, true_total, atol=1e-3)
    assert np.linalg.norm(comp.residual) < 0.5 * np.linalg.norm(true_total)


def test_q8_is_unbiased_within_one_step_and_four_times_smaller() -> None:
    rng = np.random.default_rng(1)
    v = rng.normal(size=10_000).astype(np.float32)
    blob = encode_q8(v, rng)
    assert len(blob) < v.nbytes / 3.9
    out = decode_q8(blob)
    step = (v.max() - v.min()) / 255
    assert np.abs(out - v).max() <= step * 1.001 + 1e-6
    mean = np.mean([decode_q8(encode_q8(v, rng)) for _ in range(200)], axis=0)
    assert np.abs(mean - v).mean() < 0.1 * step


def test_constant_vectors_and_tails_survive() -> None:
    v = np.full(5000, 0.25, dtype=np.float32)
    np.testing.assert_allclose(decode_q8(encode_q8(v, np.random.default_rng(0))), v)
    assert decode_topk(encode_topk(np.zeros(0, np.float32), 5)).size == 0


def test_corrupt_blobs_and_bad_specs() -> None:
    blob = encode_topk(np.arange(10, dtype=np.float32), 4)
    with pytest.raises(CompressionError, match="wrong length"):
        decode_topk(blob[:-1])
    with pytest.raises(CompressionError, match="not a top-k"):
        decode_topk(b"XXXX" + blob[4:])
    bad_index = bytearray(blob)
    bad_index[20:24] = (999).to_bytes(4, "little")
    with pytest.raises(CompressionError, match="out of range"):
        decode_topk(bytes(bad_index))
    q = encode_q8(np.arange(10, dtype=np.float32), np.random.default_rng(0))
    with pytest.raises(CompressionError, match="wrong length"):
        decode_q8(q + b"\x00")
    with pytest.raises(CompressionError, match="unknown compressed"):
        decompress({"w": np.zeros(1, np.float32)}, b"JUNK")
    for spec in ("gzip", "topk:2", "topk:x", "q8:3"):
        with pytest.raises(ConfigError):
            Compressor.parse(spec)


def test_payloads_are_checked_part_by_part() -> None:
    def refused(payload: Payload) -> str:
        with pytest.raises(CompressionError) as caught:
            expand(payload)
        return str(caught.value)

    idx, vals = np.arange(3, dtype=np.uint32), np.ones(3, dtype=np.float32)
    assert refused(Payload("zip", 3, {})) == "unknown compression scheme 'zip'"
    topk = {"indices": idx, "values": vals}
    assert refused(Payload("topk", 2, topk)) == "top-k update keeps 3 values of a model of 2"
    q8 = {"codes": np.zeros(3, np.uint8), "ranges": np.zeros((1, 2), np.float32)}
    assert refused(Payload("q8", 3, q8, chunk=0)) == "8-bit update has chunk size 0"
    q8["ranges"] = np.array([[np.inf, 0]], np.float32)
    assert refused(Payload("q8", 3, q8)) == "8-bit ranges contain NaN or Inf"
    assert refused(Payload("topk", 3, {**topk, "values": vals * np.nan})) == (
        "top-k values contain NaN or Inf"
    )


def test_payload_and_bytes_agree() -> None:
    rng = np.random.default_rng(4)
    v = rng.normal(size=5000).astype(np.float32)
    assert pack(topk_payload(v, 50)) == encode_topk(v, 50)
    assert pack(q8_payload(v, np.random.default_rng(1))) == encode_q8(v, np.random.default_rng(1))
    assert topk_count(0.1, 5000) == 500 and topk_count(0.1, 3) == 1
