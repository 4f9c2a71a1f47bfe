"""Property tests of every aggregator: order independence and the defining maths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flchain.exceptions import AggregationError
from flchain.learning import aggregation as agg
from flchain.learning.strategies import STRATEGIES, ClientUpdate, Strategy, strategy_from_name
from flchain.learning.weights import flatten, weights_equal
from flchain.types import Weights

SHAPES = {"layer.bias": (3,), "layer.weight": (3, 4)}
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _updates(seed: int, n: int, scale: float = 1.0) -> tuple[Weights, list[ClientUpdate]]:
    rng = np.random.default_rng(seed)
    g = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    ups = [
        ClientUpdate(
            update_id=f"bafy{rng.integers(1 << 40):012x}{i}",
            weights={
                k: (v + scale * rng.normal(size=v.shape)).astype(np.float32) for k, v in g.items()
            },
            num_samples=int(rng.integers(1, 100)),
            reputation=float(rng.uniform(0.1, 2.0)),
            client=f"client{i}",
        )
        for i in range(n)
    ]
    return g, ups


def _run(strategy: Strategy, g: Weights, ups: list[ClientUpdate]) -> Weights:
    if strategy.requires_root:
        first = min(ups, key=lambda u: u.update_id)
        root = {k: v + 0.5 * (first.weights[k] - v) for k, v in g.items()}
        return strategy.aggregate(g, ups, root_weights=root).weights  # type: ignore[call-arg]
    return strategy.aggregate(g, ups).weights


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(7, 12), perm_seed=st.integers(0, 1000))
@FAST
def test_every_strategy_is_permutation_invariant(
    name: str, seed: int, n: int, perm_seed: int
) -> None:
    g, ups = _updates(seed, n)
    shuffled = [ups[i] for i in np.random.default_rng(perm_seed).permutation(n)]
    a = _run(strategy_from_name(name), g, ups)
    b = _run(strategy_from_name(name), g, shuffled)
    assert weights_equal(a, b)
    assert all(v.dtype == np.float32 for v in a.values())


@given(
    data=st.lists(
        st.lists(st.floats(-1e6, 1e6, width=32), min_size=5, max_size=5), min_size=1, max_size=15
    )
)
@settings(max_examples=60, deadline=None)
def test_median_equals_numpy_median(data: list[list[float]]) -> None:
    X = np.asarray(data, dtype=np.float32)
    np.testing.assert_array_equal(agg.coordinate_median(X), np.median(X.astype(np.float64), axis=0))


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 20), beta=st.floats(0, 0.49))
@settings(max_examples=60, deadline=None)
def test_trimmed_mean_drops_exactly_floor_beta_n_per_side(seed: int, n: int, beta: float) -> None:
    X = np.random.default_rng(seed).normal(size=(n, 6)).astype(np.float32)
    k = int(np.floor(beta * n))
    if n - 2 * k < 1:
        with pytest.raises(AggregationError):
            agg.trimmed_mean(X, beta)
        return
    expected = np.sort(X.astype(np.float64), axis=0)[k : n - k].mean(axis=0)
    np.testing.assert_allclose(agg.trimmed_mean(X, beta), expected, rtol=1e-12, atol=1e-12)
    # extreme outliers on both sides vanish entirely when k >= their count
    if k >= 1:
        Y = X.copy()
        Y[0], Y[-1] = 1e30, -1e30
        kept = np.sort(Y.astype(np.float64), axis=0)[k : n - k]
        assert np.all(np.abs(agg.trimmed_mean(Y, beta)) < 1e29) == bool(np.all(np.abs(kept) < 1e29))


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4, 16), dim=st.integers(2, 30))
@settings(max_examples=60, deadline=None)
def test_krum_picks_an_honest_update_when_2f_plus_2_below_n(seed: int, n: int, dim: int) -> None:
    rng = np.random.default_rng(seed)
    f = (n - 3) // 2
    honest = rng.normal(size=(n - f, dim))
    byzantine = rng.normal(size=(f, dim)) * 50 + rng.choice([-100, 100], size=(f, 1))
    X = np.vstack([honest, byzantine]).astype(np.float32)
    order = rng.permutation(n)
    X = X[order]
    D = agg.squared_distances(X, np.zeros(dim, np.float32))
    winner = int(agg.lowest(agg.krum_scores(D, f), 1)[0])
    assert order[winner] < n - f


def test_fedavg_is_the_sample_weighted_mean() -> None:
    g, ups = _updates(1, 9)
    out = strategy_from_name("fedavg").aggregate(g, ups)
    w = np.array([u.num_samples for u in ups], dtype=np.float64)
    stacked = np.stack([flatten(u.weights) for u in ups])
    expected = (w[:, None] * stacked).sum(axis=0) / w.sum()
    np.testing.assert_allclose(flatten(out.weights), expected, rtol=1e-6)
    assert abs(sum(out.contributions.values()) - 1.0) < 1e-12


def test_weighted_average_of_segments_sums_each_coordinate_in_row_order() -> None:
    """Blocked and segmented, the sum is still ``acc += float64(x)·w`` over rows in order."""
    rng = np.random.default_rng(7)
    sizes = (3, 2 * agg._AVG_BLOCK + 5, 1, agg._AVG_BLOCK)
    rows = [tuple(rng.normal(size=k).astype(np.float32) for k in sizes) for _ in range(6)]
    weights = [3.0, 0.0, 1e-7, 17.0, 2.5, 1e9]
    expected = np.zeros(sum(sizes))
    for row, w in zip(rows, weights, strict=True):
        if w:
            expected += np.concatenate(row).astype(np.float64) * w
    expected /= float(np.cumsum(weights)[-1])
    got = agg.weighted_average(rows, weights)
    assert got.dtype == np.float64 and got.tobytes() == expected.tobytes()
    whole = agg.weighted_average([(np.concatenate(r),) for r in rows], weights)
    assert whole.tobytes() == got.tobytes()
    matrix = agg.stack(rows)
    assert matrix.dtype == np.float32 and matrix.shape == (6, sum(sizes))
    assert matrix[3].tobytes() == np.concatenate(rows[3]).tobytes()
    with pytest.raises(AggregationError, match="sum to zero"):
        agg.weighted_average(rows, [0.0] * 6)


def test_bulyan_coordinate_keeps_values_nearest_the_median() -> None:
    X = np.array([[0.0], [1.0], [2.0], [3.0], [100.0]], dtype=np.float32)
    assert agg.bulyan_coordinate(X, 3)[0] == pytest.approx(2.0)  # {1, 2, 3}
    assert agg.bulyan_coordinate(X, 1)[0] == pytest.approx(2.0)
    X2 = np.array([[-50.0], [0.0], [0.1], [0.2], [0.3]], dtype=np.float32)
    assert agg.bulyan_coordinate(X2, 3)[0] == pytest.approx(
        0.1, abs=1e-6
    )  # median 0.1: {0, 0.1, 0.2}


def test_stable_dot_is_left_to_right() -> None:
    a = np.array([1e16, 1.0, -1e16, 1.0])
    assert agg.stable_dot(a, np.ones(4)) == ((1e16 + 1.0) - 1e16) + 1.0


def test_signed_zeros_do_not_leak_into_the_aggregate() -> None:
    g = {"w": np.zeros(4, np.float32)}
    ups = [
        ClientUpdate(f"u{i}", {"w": np.array([-0.0, 0.0, -0.0, 1.0], np.float32)}, 1)
        for i in range(3)
    ]
    ups.append(ClientUpdate("u9", {"w": np.array([0.0, -0.0, 0.0, 1.0], np.float32)}, 1))
    for name in ("fedmedian", "fedtrimmedavg", "bulyan", "krum"):
        out = strategy_from_name(name).aggregate(g, ups).weights["w"]
        assert not np.signbit(out).any(), name
