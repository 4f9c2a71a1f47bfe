"""Attacks are the pure functions their names promise; the malicious set is seeded."""

from __future__ import annotations

import numpy as np
import pytest

from flchain.exceptions import ConfigError
from flchain.learning.attacks import (
    MaliciousSpec,
    choose_malicious,
    free_rider,
    noise,
    parse_malicious,
    signflip,
)


def _pair() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    g = {"w": rng.normal(size=(4, 3)).astype(np.float32)}
    return g, {"w": (g["w"] + 0.1).astype(np.float32)}


def test_signflip_is_global_minus_ten_times_the_update() -> None:
    g, local = _pair()
    out = signflip(g, local)
    expected = g["w"].astype(np.float64) - 10 * (local["w"].astype(np.float64) - g["w"])
    np.testing.assert_allclose(out["w"], expected, rtol=1e-6)
    assert out["w"].dtype == np.float32


def test_free_rider_returns_the_global_model_and_noise_is_large() -> None:
    g, local = _pair()
    fr = free_rider(g, local)
    assert fr["w"].tobytes() == g["w"].tobytes() and fr["w"] is not g["w"]
    big = {"w": np.zeros(100_000, np.float32)}
    out = noise(big, big, np.random.default_rng(3), std=2.0)
    assert float(np.std(out["w"])) == pytest.approx(2.0, rel=0.02)


def test_parse_and_choose() -> None:
    assert parse_malicious("signflip:0.3") == MaliciousSpec("signflip", 0.3)
    assert parse_malicious("free_rider:0.1").kind == "free-rider"
    for bad in ("ddos:0.2", "noise:1.5", "noise:lots"):
        with pytest.raises(ConfigError):
            parse_malicious(bad)
    chosen = choose_malicious(20, 0.3, seed=0)
    assert len(chosen) == 6 and chosen == sorted(set(chosen))
    assert chosen == choose_malicious(20, 0.3, seed=0)
    assert chosen != choose_malicious(20, 0.3, seed=1)
    assert choose_malicious(20, 0.0, seed=0) == []
