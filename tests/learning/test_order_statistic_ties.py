"""Ties in the order-statistic rules: exact values, whatever the order of the updates.

Median, trimmed mean, Krum and Bulyan must give results that depend on the
multiset of updates only: repeated values, all-equal columns and free-rider
copies (updates identical to the global model) included.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from flchain.learning import aggregation as agg
from flchain.learning.strategies import ClientUpdate, strategy_from_name

PAPER_EXAMPLE = [-1.289, -1.289, -1.289, -0.941, 0.032, 0.273, 0.722, 0.917]


def _column(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)[:, None]


def _both_orders(rule: Callable[..., np.ndarray], values: list[float], *args: object) -> float:
    """The rule on a column and on the column reversed, which must agree bit for bit."""
    a = rule(_column(values), *args)
    b = rule(_column(values[::-1]), *args)
    assert a.tobytes() == b.tobytes()
    return float(a[0])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 1.0, 1.0, 5.0], 1.0),
        ([2.0, 2.0, 3.0, 3.0], 2.5),
        ([7.0, 7.0, 7.0, 7.0, 7.0], 7.0),
        ([0.0, 0.0, 0.0, 4.0, 9.0], 0.0),
    ],
)
def test_median_with_repeated_values(values: list[float], expected: float) -> None:
    assert _both_orders(agg.coordinate_median, values) == expected


@pytest.mark.parametrize(
    ("values", "beta", "expected"),
    [
        ([1.0, 1.0, 1.0, 1.0, 9.0], 0.2, 1.0),  # drops one 1 and the 9
        ([0.0, 0.0, 5.0, 5.0, 5.0, 5.0, 10.0, 10.0], 0.25, 5.0),
        ([3.0] * 6, 0.4, 3.0),
        ([0.0, 0.0, 0.0, 2.0, 4.0], 0.2, 2.0 / 3.0),  # keeps 0, 0, 2
    ],
)
def test_trimmed_mean_with_repeated_values(
    values: list[float], beta: float, expected: float
) -> None:
    assert _both_orders(agg.trimmed_mean, values, beta) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("values", "beta", "expected"),
    [
        # The defect this file pins: the 4 values nearest the median −0.4545
        # are −0.941, 0.032, 0.273 and −1.289 (as in the paper and in Flower),
        # not the three copies of −1.289 and −0.941.
        (PAPER_EXAMPLE, 4, (-0.941 + 0.032 + 0.273 - 1.289) / 4),
        ([-1.0, 0.0, 1.0], 2, -0.5),  # −1 and 1 tie: the smaller is taken first
        ([0.0, 0.0, 0.0, 3.0, 3.0, 3.0], 3, 0.0),  # all six are 1.5 from the median
        ([0.0, 0.0, 0.0, 3.0, 3.0, 3.0], 4, 0.75),
        ([2.5] * 5, 3, 2.5),
        ([0.0, 0.0, 0.0, 1.0, 3.0], 3, 0.0),  # free-rider copies hold the median
        ([4.0, 4.0, 1.0, 1.0, 1.0, 9.0, 9.0], 5, 2.2),  # median 4: {4, 4, 1, 1, 1}
    ],
)
def test_bulyan_coordinate_takes_the_beta_values_nearest_the_median(
    values: list[float], beta: int, expected: float
) -> None:
    assert _both_orders(agg.bulyan_coordinate, values, beta) == pytest.approx(expected, rel=1e-6)


def test_bulyan_coordinate_is_row_order_free_on_many_tied_columns() -> None:
    rng = np.random.default_rng(5)
    X = rng.integers(-3, 4, size=(9, 5000)).astype(np.float32)  # heavy ties everywhere
    ref = agg.bulyan_coordinate(X, 5)
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(9)
        assert agg.bulyan_coordinate(X[perm], 5).tobytes() == ref.tobytes()
    # against a direct reading of the definition: sort by (distance, value), take beta
    for c in range(0, 5000, 97):
        col = X[:, c].astype(np.float64)
        med = float(np.median(col))
        nearest = sorted(col, key=lambda v: (abs(v - med), v))[:5]
        assert ref[c] == pytest.approx(sum(nearest) / 5, rel=1e-12, abs=1e-12)


def _updates(values: list[float], ids: list[str] | None = None) -> list[ClientUpdate]:
    ids = ids or [f"u{i}" for i in range(len(values))]
    return [
        ClientUpdate(uid, {"w": np.array([v], np.float32)}, 1)
        for uid, v in zip(ids, values, strict=True)
    ]


def test_krum_breaks_a_score_tie_by_update_id() -> None:
    g = {"w": np.zeros(1, np.float32)}
    # n = 3, f = 0: every update is at distance 1 from its nearest peer; "a" wins
    for ids, winner in ((["a", "b", "c"], 1.0), (["c", "b", "a"], 0.0)):
        ups = _updates([1.0, -1.0, 0.0], ids)
        for order in (ups, ups[::-1]):
            out = strategy_from_name("krum", num_malicious=0).aggregate(g, order)
            assert float(out.weights["w"][0]) == winner
            assert out.contributions["a"] == 1.0


def test_krum_picks_the_first_of_identical_free_rider_copies() -> None:
    g = {"w": np.zeros(1, np.float32)}
    ups = _updates([0.0, 0.0, 0.0, 5.0, 6.0])
    out = strategy_from_name("krum", num_malicious=1).aggregate(g, ups[::-1])
    assert float(out.weights["w"][0]) == 0.0
    assert out.contributions == {"u0": 1.0, "u1": 0.0, "u2": 0.0, "u3": 0.0, "u4": 0.0}


def test_bulyan_with_free_rider_copies_is_exact() -> None:
    g = {"w": np.zeros(1, np.float32)}
    ups = _updates([0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0])  # n = 7, f = 1, θ = 5, β = 3
    a = strategy_from_name("bulyan").aggregate(g, ups)
    b = strategy_from_name("bulyan").aggregate(g, ups[::-1])
    # Krum selection by hand: 1.0, then u0, 3.0, u1, u2; the 3 nearest the median 0 are the zeros
    chosen = {k for k, v in a.contributions.items() if v > 0}
    assert chosen == {"u0", "u1", "u2", "u3", "u5"}
    assert float(a.weights["w"][0]) == 0.0 and a.weights["w"].tobytes() == b.weights["w"].tobytes()
