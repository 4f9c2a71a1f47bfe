"""Clipping and noise do what they say; the RDP accountant matches numerical integration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flchain.exceptions import ConfigError
from flchain.learning import dp


def _gaussian_rdp_numeric(q: float, sigma: float, alpha: int) -> float:
    """RDP of the sampled Gaussian by direct integration of E_{μ0}[(μ/μ0)^α] (independent check)."""
    z = np.linspace(-40 * sigma, 40 * sigma + 1, 400_001)
    log_mu0 = -(z**2) / (2 * sigma**2)
    log_mu1 = -((z - 1) ** 2) / (2 * sigma**2)
    log_mix = np.logaddexp(np.log1p(-q) + log_mu0, np.log(q) + log_mu1)
    log_integrand = alpha * log_mix + (1 - alpha) * log_mu0 - 0.5 * np.log(2 * np.pi * sigma**2)
    peak = log_integrand.max()
    integral = np.trapezoid(np.exp(log_integrand - peak), z)
    return float((peak + np.log(integral)) / (alpha - 1))


@pytest.mark.parametrize(("q", "sigma", "alpha"), [(0.01, 1.0, 8), (0.1, 2.0, 16), (0.5, 1.5, 4)])
def test_rdp_matches_numerical_integration(q: float, sigma: float, alpha: int) -> None:
    assert dp.rdp_sampled_gaussian(q, sigma, alpha) == pytest.approx(
        _gaussian_rdp_numeric(q, sigma, alpha), rel=1e-6
    )


def test_full_participation_is_the_plain_gaussian_mechanism() -> None:
    assert dp.rdp_sampled_gaussian(1.0, 2.0, 10) == pytest.approx(10 / 8)
    assert dp.rdp_sampled_gaussian(0.0, 2.0, 10) == 0.0


def test_epsilon_grows_with_rounds_and_shrinks_with_noise_and_sampling() -> None:
    base = dp.epsilon(0.1, 1.0, 100, 1e-5)[0]
    assert dp.epsilon(0.1, 1.0, 400, 1e-5)[0] > base
    assert dp.epsilon(0.1, 2.0, 100, 1e-5)[0] < base
    assert dp.epsilon(0.05, 1.0, 100, 1e-5)[0] < base
    assert dp.epsilon(0.1, 1.0, 0, 1e-5)[0] == 0.0
    acct = dp.PrivacyAccountant(noise_multiplier=1.0, sample_rate=0.1)
    acct.step(100)
    assert acct.epsilon(1e-5) == base
    # a single full-batch Gaussian round is (ε, δ)-DP with ε below the classical bound
    sigma, delta = 5.0, 1e-5
    classical = math.sqrt(2 * math.log(1.25 / delta)) / sigma
    assert dp.epsilon(1.0, sigma, 1, delta)[0] < classical


def test_clip_bounds_the_update_norm_and_keeps_small_updates() -> None:
    rng = np.random.default_rng(0)
    g = {"a": rng.normal(size=(10, 10)).astype(np.float32), "b": np.zeros(5, np.float32)}
    big = {k: v + 3.0 for k, v in g.items()}
    clipped = dp.clip_update(g, big, 1.0)
    assert dp.update_norm(g, clipped) == pytest.approx(1.0, rel=1e-5)
    small = {k: v + 1e-3 for k, v in g.items()}
    assert dp.update_norm(g, dp.clip_update(g, small, 1.0)) == pytest.approx(
        dp.update_norm(g, small), rel=1e-4
    )


def test_noise_has_the_promised_scale() -> None:
    g = {"a": np.zeros(200_000, np.float32)}
    out = dp.privatize_update(
        g, g, clip_norm=2.0, noise_multiplier=0.5, rng=np.random.default_rng(1)
    )
    assert float(np.std(out["a"])) == pytest.approx(1.0, rel=0.01)


def test_bad_dp_parameters() -> None:
    g = {"a": np.zeros(2, np.float32)}
    with pytest.raises(ConfigError, match="clip norm"):
        dp.clip_update(g, g, 0.0)
    with pytest.raises(ConfigError, match="noise multiplier"):
        dp.privatize_update(g, g, 1.0, -1.0, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="delta"):
        dp.epsilon(0.1, 1.0, 10, 0.0)
    with pytest.raises(ConfigError, match="sampling rate"):
        dp.rdp_sampled_gaussian(1.5, 1.0, 2)
