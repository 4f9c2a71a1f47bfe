"""Strategies give the same bits in another process, carry state, and resist what they claim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from flchain.exceptions import AggregationError, ConfigError
from flchain.learning.strategies import (
    STRATEGIES,
    ClientUpdate,
    FLTrust,
    StrategyState,
    parse_params,
    strategy_from_name,
)
from flchain.learning.weights import flatten, weights_equal
from flchain.types import Weights

SHAPES = {"a.weight": (16, 8), "a.bias": (16,), "b.weight": (4, 16)}

_CHILD = """
import sys
import numpy as np
from flchain.learning.strategies import ClientUpdate, StrategyState, strategy_from_name
src, dst = sys.argv[1], sys.argv[2]
with np.load(src) as z:
    arrays = {k: z[k] for k in z.files}
keys = sorted({k.split("/", 1)[1] for k in arrays if k.startswith("g/")})
g = {k: arrays["g/" + k] for k in keys}
ids = sorted({k.split("/")[1] for k in arrays if k.startswith("u/")})
ups = [ClientUpdate(i, {k: arrays[f"u/{i}/{k}"] for k in keys}, int(arrays[f"n/{i}"]))
       for i in reversed(ids)]
root = {k: arrays["root/" + k] for k in keys}
out = {}
for name in sys.argv[3:]:
    s = strategy_from_name(name)
    state = None
    w = g
    for _ in range(2):
        kw = {"root_weights": root} if s.requires_root else {}
        r = s.aggregate(w, ups, state, **kw)
        w, state = r.weights, r.state
    for k in keys:
        out[f"{name}/{k}"] = w[k]
np.savez(dst, **out)
"""


def _problem(seed: int, n: int = 11) -> tuple[Weights, list[ClientUpdate], Weights]:
    rng = np.random.default_rng(seed)
    g = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    ups = [
        ClientUpdate(
            f"bafyupdate{i:03d}",
            {k: (v + 0.1 * rng.normal(size=v.shape)).astype(np.float32) for k, v in g.items()},
            int(rng.integers(5, 50)),
        )
        for i in range(n)
    ]
    root = {k: (v + 0.1 * rng.normal(size=v.shape)).astype(np.float32) for k, v in g.items()}
    return g, ups, root


def test_aggregates_are_bit_identical_in_a_separate_process(tmp_path: Path) -> None:
    g, ups, root = _problem(0)
    arrays: dict[str, np.ndarray] = {f"g/{k}": v for k, v in g.items()}
    arrays.update({f"root/{k}": v for k, v in root.items()})
    for u in ups:
        arrays[f"n/{u.update_id}"] = np.array(u.num_samples)
        arrays.update({f"u/{u.update_id}/{k}": v for k, v in u.weights.items()})
    np.savez(tmp_path / "in.npz", **arrays)
    names = sorted(STRATEGIES)
    subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path / "in.npz"), str(tmp_path / "out.npz"), *names],
        check=True,
        timeout=300,
    )
    with np.load(tmp_path / "out.npz") as z:
        child = {k: z[k] for k in z.files}
    for name in names:
        s = strategy_from_name(name)
        state, w = None, g
        for _ in range(2):
            kw = {"root_weights": root} if s.requires_root else {}
            r = s.aggregate(w, ups, state, **kw)
            w, state = r.weights, r.state
        for k in SHAPES:
            assert child[f"{name}/{k}"].tobytes() == w[k].tobytes(), (name, k)


def test_server_optimiser_state_is_explicit_and_replayable() -> None:
    g, ups, _ = _problem(1)
    s = strategy_from_name("fedadam", eta=0.05)
    r1 = s.aggregate(g, ups)
    r2 = s.aggregate(r1.weights, ups, r1.state)
    assert r1.state.round == 1 and r2.state.round == 2
    assert set(r2.state.buffers) == {"m", "v"}
    replay = s.aggregate(r1.weights, ups, StrategyState(1, dict(r1.state.buffers)))
    assert weights_equal(replay.weights, r2.weights)
    fresh = s.aggregate(r1.weights, ups)  # without state: a different step
    assert not weights_equal(fresh.weights, r2.weights)
    broken = StrategyState(1, {"m": np.zeros(3), "v": np.zeros(3)})
    with pytest.raises(AggregationError, match="state buffer 'm'"):
        s.aggregate(r1.weights, ups, broken)


def test_fedavgm_momentum_accumulates() -> None:
    g, ups, _ = _problem(2)
    s = strategy_from_name("fedavgm", server_momentum=0.9)
    plain = strategy_from_name("fedavg").aggregate(g, ups)
    r1 = s.aggregate(g, ups)
    assert weights_equal(r1.weights, plain.weights)  # first step has no momentum yet
    r2 = s.aggregate(g, ups, r1.state)  # same delta again: step is (1 + 0.9)×
    step = flatten(r2.weights) - flatten(g)
    np.testing.assert_allclose(
        step, 1.9 * (flatten(plain.weights) - flatten(g)), rtol=1e-4, atol=1e-6
    )


def test_fltrust_ignores_updates_against_the_root_direction() -> None:
    g, _, _ = _problem(3, n=6)
    good_dir = {k: np.full(v.shape, 0.01, np.float32) for k, v in g.items()}
    root = {k: g[k] + good_dir[k] for k in g}
    honest = [
        ClientUpdate(f"h{i}", {k: g[k] + (i + 1) * good_dir[k] for k in g}, 10) for i in range(3)
    ]
    evil = [ClientUpdate(f"e{i}", {k: g[k] - 100 * good_dir[k] for k in g}, 1000) for i in range(3)]
    r = FLTrust().aggregate(g, honest + evil, root_weights=root)
    assert all(r.contributions[f"e{i}"] == 0.0 for i in range(3))
    np.testing.assert_allclose(flatten(r.weights) - flatten(g), flatten(good_dir), rtol=1e-4)
    with pytest.raises(AggregationError, match="root_weights"):
        FLTrust().aggregate(g, honest)
    via_fn = FLTrust(root_fn=lambda w: root).aggregate(g, honest + evil)
    assert weights_equal(via_fn.weights, r.weights)


def test_foolsgold_down_weights_sybils_and_keeps_history() -> None:
    rng = np.random.default_rng(4)
    g = {"w": np.zeros(50, np.float32)}
    sybil_dir = rng.normal(size=50)
    ups = [
        ClientUpdate(
            f"s{i}",
            {"w": (sybil_dir + 0.01 * rng.normal(size=50)).astype(np.float32)},
            10,
            client=f"s{i}",
        )
        for i in range(4)
    ]
    ups += [
        ClientUpdate(f"h{i}", {"w": rng.normal(size=50).astype(np.float32)}, 10, client=f"h{i}")
        for i in range(4)
    ]
    r = strategy_from_name("foolsgold").aggregate(g, ups)
    sybil = max(r.contributions[f"s{i}"] for i in range(4))
    honest = min(r.contributions[f"h{i}"] for i in range(4))
    assert sybil < 0.05 < honest
    assert {f"history/s{i}" for i in range(4)} <= set(r.state.buffers)
    r2 = strategy_from_name("foolsgold").aggregate(g, ups, r.state)
    np.testing.assert_allclose(r2.state.buffers["history/h0"], 2 * r.state.buffers["history/h0"])


def test_reputation_weights_the_average() -> None:
    g = {"w": np.zeros(3, np.float32)}
    ups = [
        ClientUpdate("a", {"w": np.ones(3, np.float32)}, 10, reputation=3.0),
        ClientUpdate("b", {"w": np.zeros(3, np.float32)}, 10, reputation=1.0),
    ]
    r = strategy_from_name("reputationavg").aggregate(g, ups)
    np.testing.assert_allclose(r.weights["w"], 0.75)
    assert r.contributions == {"a": 0.75, "b": 0.25}


def test_multikrum_and_bulyan_exclude_outliers() -> None:
    g, ups, _ = _problem(5, n=11)
    bad = [ClientUpdate(f"zz{i}", {k: v + 50.0 for k, v in g.items()}, 10) for i in range(2)]
    for name in ("krum", "multikrum", "bulyan"):
        r = strategy_from_name(name, num_malicious=2).aggregate(g, ups + bad)
        if name != "bulyan":  # Bulyan may select a colluding twin; its trimming removes it
            assert not set(r.accepted) & {"zz0", "zz1"}, name
        assert np.abs(flatten(r.weights) - flatten(g)).max() < 1.0


def test_fedprox_announces_its_mu() -> None:
    assert strategy_from_name("fedprox", proximal_mu=0.3).fit_config() == {"proximal_mu": 0.3}
    assert strategy_from_name("fedavg").fit_config() == {}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda g, u: [], "no updates"),
        (lambda g, u: [u[0], u[0]], "duplicate update id"),
        (
            lambda g, u: [ClientUpdate("x", {"a.weight": np.zeros((2, 2), np.float32)}, 1)],
            "missing",
        ),
        (
            lambda g, u: [ClientUpdate("x", {**g, "a.bias": np.full(16, np.nan, np.float32)}, 1)],
            "NaN",
        ),
        (lambda g, u: [ClientUpdate("x", {**g, "a.bias": np.zeros(3, np.float32)}, 1)], "shape"),
    ],
)
def test_bad_updates_are_named(make, message: str) -> None:  # type: ignore[no-untyped-def]
    g, ups, _ = _problem(6, n=3)
    with pytest.raises(AggregationError, match=message):
        strategy_from_name("fedavg").aggregate(g, make(g, ups))


def test_bad_update_fields_and_strategy_params() -> None:
    w = {"w": np.zeros(1, np.float32)}
    with pytest.raises(AggregationError, match="num_samples"):
        ClientUpdate("x", w, -1)
    with pytest.raises(AggregationError, match="reputation"):
        ClientUpdate("x", w, 1, reputation=float("nan"))
    with pytest.raises(ConfigError, match="unknown strategy"):
        strategy_from_name("fedsgd")
    with pytest.raises(ConfigError, match="bad parameters"):
        strategy_from_name("krum", beta=0.1)
    with pytest.raises(AggregationError, match="beta"):
        strategy_from_name("fedtrimmedavg", beta=0.7)
    g, ups, _ = _problem(7, n=5)
    with pytest.raises(AggregationError, match="Bulyan with f=1 needs at least 7"):
        strategy_from_name("bulyan", num_malicious=1).aggregate(g, ups)
    assert parse_params(["beta=0.3", "weighted=false", "inner=fedmedian", "to_keep=4"]) == {
        "beta": 0.3,
        "weighted": False,
        "inner": "fedmedian",
        "to_keep": 4,
    }
    with pytest.raises(ConfigError, match="name=value"):
        parse_params(["beta"])
