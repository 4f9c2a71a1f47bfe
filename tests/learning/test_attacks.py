"""Every attack of the lab is the pure function its registry entry promises."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import pytest

from flchain.exceptions import ConfigError
from flchain.learning.attacks import (
    ATTACKS,
    alie_z_max,
    attack_success_rate,
    backdoor,
    boost,
    fit_within,
    free_rider,
    get_attack,
    inflate,
    label_flip,
    noise,
    pair_flip,
    shrink,
    signflip,
    trigger_for,
)
from flchain.learning.attacks.collusion import (
    alie,
    alie_vector,
    min_max_vector,
    min_sum_vector,
    sybil,
    sybil_vectors,
)
from flchain.types import Weights

RNG = np.random.default_rng(0)


def _pair() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    g = {"w": rng.normal(size=(4, 3)).astype(np.float32)}
    return g, {"w": (g["w"] + 0.1).astype(np.float32)}


def test_registry_entries_match_their_functions() -> None:
    kinds = {"data", "model", "collusion", "claim", "adaptive"}
    assert {a.kind for a in ATTACKS.values()} == kinds
    for name, attack in ATTACKS.items():
        assert attack.name == name and attack.description
        defaults = {
            p.name: p.default
            for p in inspect.signature(attack.fn).parameters.values()
            if p.default is not inspect.Parameter.empty and p.name != "rng"
        }
        assert dict(attack.params) == defaults, name
    assert not ATTACKS["noise"].trains and not ATTACKS["free-rider"].trains
    assert ATTACKS["signflip"].trains and ATTACKS["alie"].trains
    with pytest.raises(ConfigError, match="unknown attack 'ddos'"):
        get_attack("ddos")


# --- data poisoning -------------------------------------------------------------------------


def test_label_flip_maps_l_to_c_minus_1_minus_l() -> None:
    x = np.zeros((10, 4), np.float32)
    fx, fy = label_flip((x, np.arange(10)), 10, RNG)
    assert fx is x and fy.tolist() == list(range(9, -1, -1)) and fy.dtype == np.int64


def test_pair_flip_changes_the_source_class_only() -> None:
    _, y = pair_flip((np.zeros((5, 2)), np.array([7, 1, 7, 3, 0])), 10, RNG)
    assert y.tolist() == [1, 1, 1, 3, 0]
    with pytest.raises(ConfigError, match=r"outside 0\.\.9"):
        pair_flip((np.zeros((1, 2)), np.array([0])), 10, RNG, source=10)


def test_triggers_sit_in_the_corner_or_at_the_end() -> None:
    digits = trigger_for(64)  # 8x8: rows 5..7, columns 5..7
    assert digits.indices == (45, 46, 47, 53, 54, 55, 61, 62, 63) and digits.value == 1.0
    assert trigger_for(784).indices[-1] == 783 and len(trigger_for(784).indices) == 9
    cifar = trigger_for(3072)  # 3 x 32 x 32: the patch in each channel
    assert len(cifar.indices) == 27 and {1023, 2047, 3071} <= set(cifar.indices)
    signal = trigger_for(40)  # MNIST-1D
    assert signal.indices == (36, 37, 38, 39) and signal.value == 3.0
    with pytest.raises(ConfigError):
        trigger_for(3)


def test_backdoor_stamps_and_relabels_exactly_the_poisoned_share() -> None:
    x = np.random.default_rng(1).uniform(0, 0.5, size=(100, 64)).astype(np.float32)
    y = np.arange(100) % 10
    px, py = backdoor((x, y), 10, np.random.default_rng(2), poison_fraction=0.3, target=0)
    trig = list(trigger_for(64).indices)
    stamped = np.all(px[:, trig] == 1.0, axis=1)
    assert stamped.sum() == 30 and np.all(py[stamped] == 0)
    assert np.array_equal(py[~stamped], y[~stamped]) and np.array_equal(px[~stamped], x[~stamped])
    others = np.setdiff1d(np.arange(64), trig)
    assert np.array_equal(px[:, others], x[:, others])
    assert float(x.max()) < 1.0  # the input was not modified
    again = backdoor((x, y), 10, np.random.default_rng(2))
    assert np.array_equal(again[0], px) and np.array_equal(again[1], py)


def test_attack_success_rate_counts_triggered_non_target_inputs() -> None:
    trig = trigger_for(64)
    x = np.zeros((20, 64), np.float32)
    x[:10, 0] = 1.0  # a feature the toy predictor below also looks at
    y = np.array([0] * 4 + [3] * 16)  # four examples of the target class are excluded

    def fooled_by_trigger_and_feature(rows: np.ndarray) -> np.ndarray:
        return np.where((rows[:, 63] == 1.0) & (rows[:, 0] == 1.0), 0, 3)

    # non-target rows 4..19: rows 4..9 have feature 0 set -> 6 of 16
    rate = attack_success_rate(fooled_by_trigger_and_feature, x, y, trig, 0)
    assert rate == 6 / 16
    assert attack_success_rate(lambda r: np.zeros(len(r)), x, y, trig, 0) == 1.0
    with pytest.raises(ConfigError):
        attack_success_rate(lambda r: r, x, np.zeros(20), trig, 0)


# --- model poisoning ------------------------------------------------------------------------


@pytest.mark.parametrize(("fn", "factor"), [(signflip, -10.0), (boost, 10.0), (shrink, 0.1)])
def test_scaled_updates(fn: Callable[..., Weights], factor: float) -> None:
    g, local = _pair()
    out = fn(g, local)
    expected = g["w"].astype(np.float64) + factor * (local["w"].astype(np.float64) - g["w"])
    np.testing.assert_allclose(out["w"], expected, rtol=1e-6)
    assert out["w"].dtype == np.float32
    key = "scale" if fn is signflip else "factor"
    assert ATTACKS[fn.__name__].params == {key: factor}


def test_free_rider_noise_inflate_and_the_model_call() -> None:
    g, local = _pair()
    fr = free_rider(g, local)
    assert fr["w"].tobytes() == g["w"].tobytes() and fr["w"] is not g["w"]
    big = {"w": np.zeros(100_000, np.float32)}
    out = noise(big, big, np.random.default_rng(3), std=2.0)
    assert float(np.std(out["w"])) == pytest.approx(2.0, rel=0.02)
    assert inflate(50) == 10**6 and inflate(50, claimed=7) == 50
    called = ATTACKS["signflip"](g, local, RNG)
    assert called["w"].tobytes() == signflip(g, local)["w"].tobytes()
    with pytest.raises(ConfigError, match="not a model attack"):
        ATTACKS["alie"](g, local, RNG)


# --- collusion ------------------------------------------------------------------------------


def test_alie_follows_the_papers_formula() -> None:
    # n = 10, m = 3: s = floor(10/2 + 1) - 3 = 3, z = Phi^-1(7/10)
    assert alie_z_max(10, 3) == NormalDist().inv_cdf(0.7) == pytest.approx(0.5244005)
    assert alie_z_max(10, 8) == NormalDist().inv_cdf(0.9)  # s clamped to 1
    B = np.array([[0.0, 2.0], [2.0, 2.0], [4.0, 2.0]])
    v = alie_vector(B, 10)
    assert v.tolist() == pytest.approx([2.0 - 0.5244005 * np.sqrt(8 / 3), 2.0])
    g = {"w": np.zeros(2, np.float32)}
    sent = alie(g, [{"w": r.astype(np.float32)} for r in B], 10, RNG)
    assert len(sent) == 3 and all(s["w"].tobytes() == sent[0]["w"].tobytes() for s in sent)
    with pytest.raises(ConfigError):
        alie_z_max(3, 0)


def _benign(m: int = 5, d: int = 50) -> np.ndarray:
    rng = np.random.default_rng(4)
    return rng.normal(1.0, 0.5, size=(m, d))


def _gamma(B: np.ndarray, v: np.ndarray) -> float:
    mean = B.mean(axis=0)
    unit = -mean / np.linalg.norm(mean)
    assert np.allclose(v - mean, float((v - mean) @ unit) * unit)  # along -mean/|mean|
    return float((v - mean) @ unit)


def test_min_max_sits_on_its_constraint() -> None:
    B = _benign()
    v = min_max_vector(B)
    spread = max(float(np.sum((B - r) ** 2, axis=1).max()) for r in B)
    assert float(np.sum((B - v) ** 2, axis=1).max()) <= spread
    gamma = _gamma(B, v)
    mean, unit = B.mean(axis=0), v - B.mean(axis=0)
    bigger = mean + unit * (1 + 1e-6)
    assert gamma > 0 and float(np.sum((B - bigger) ** 2, axis=1).max()) > spread
    std = min_max_vector(B, "std")
    assert np.allclose(std - mean, -B.std(axis=0) * float((std - mean)[0] / -B.std(axis=0)[0]))


def test_min_sum_sits_on_its_constraint() -> None:
    B = _benign()
    v = min_sum_vector(B)
    bound = max(float(np.sum((B - r) ** 2, axis=1).sum()) for r in B)
    assert float(np.sum((B - v) ** 2, axis=1).sum()) <= bound
    mean = B.mean(axis=0)
    bigger = mean + (v - mean) * (1 + 1e-6)
    assert _gamma(B, v) > 0 and float(np.sum((B - bigger) ** 2, axis=1).sum()) > bound
    assert _gamma(B, v) < _gamma(B, min_max_vector(B))  # the sum is the tighter constraint
    with pytest.raises(ConfigError, match="perturbation"):
        min_sum_vector(B, "sign")


def test_sybils_share_a_direction_and_pass_a_five_percent_copy_check() -> None:
    B = _benign(4, 1000)
    rows = sybil_vectors(B, np.random.default_rng(5), relative=0.1)
    direction = -B.mean(axis=0)
    size = np.linalg.norm(direction)
    for i, r in enumerate(rows):
        extra = r - direction
        assert np.linalg.norm(extra) == pytest.approx(0.1 * size)
        assert abs(float(extra @ direction)) < 1e-9 * size**2
        for j in range(i):
            gap = np.linalg.norm(r - rows[j])
            ratio = gap / max(np.linalg.norm(r), np.linalg.norm(rows[j]))
            assert ratio == pytest.approx(np.sqrt(2) * 0.1 / np.sqrt(1.01)) and ratio > 0.05
    g = {"w": np.zeros(1000, np.float32)}
    sent = sybil(g, [{"w": b.astype(np.float32)} for b in B], 20, np.random.default_rng(5))
    assert len(sent) == 4 and len({s["w"].tobytes() for s in sent}) == 4


# --- adaptive -------------------------------------------------------------------------------


def test_adaptive_turns_and_shrinks_just_inside_the_bounds() -> None:
    r = np.array([1.0, 0.0, 0.0])
    out = fit_within(np.array([-3.0, 1.0, 0.0]), r, norm_ratio=1.0, cos_floor=0.0)
    cos = float(out @ r) / np.linalg.norm(out)
    assert cos == pytest.approx(0.01) and np.linalg.norm(out) == pytest.approx(0.99)
    assert out[1] > 0 and out[2] == 0  # it keeps the poisoned component it can
    long = fit_within(np.array([3.0, 0.3, 0.0]), r, norm_ratio=2.0, cos_floor=0.5)
    assert np.linalg.norm(long) == pytest.approx(1.98) and long[1] / long[0] == pytest.approx(0.1)
    inside = np.array([0.5, 0.1, 0.0])
    assert fit_within(inside, r, 1.0, 0.0).tolist() == inside.tolist()
    with pytest.raises(ConfigError):
        fit_within(inside, r, 0.0, 0.0)
