"""DP in the run path: the spec's setting, a client's clip and seeded noise, ε per client."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flchain.exceptions import ConfigError
from flchain.learning import dp
from flchain.task.evaluation import derive_seed
from flchain.task.privacy import (
    client_epsilon,
    dp_from_table,
    epsilon_by_round,
    for_epsilon,
    privatize,
)
from flchain.task.spec import DPSpec, TaskSpec
from flchain.types import Weights

GLOBAL: Weights = {
    "a.weight": np.full((4, 3), 0.5, dtype=np.float32),
    "a.bias": np.zeros(3, dtype=np.float32),
    "bn.num_batches_tracked": np.array(7, dtype=np.int64),
}


def _local(scale: float) -> Weights:
    rng = np.random.default_rng(1)
    out = {k: (v + scale * rng.normal(size=v.shape)).astype(v.dtype) for k, v in GLOBAL.items()}
    out["bn.num_batches_tracked"] = np.array(9, dtype=np.int64)
    return out


def _spec(clip: float, noise: float, seed: int = 3) -> TaskSpec:
    return TaskSpec(seed=seed, dp=DPSpec(clip=clip, noise_multiplier=noise))


def test_without_dp_the_spec_keeps_its_bytes_and_the_update_is_untouched() -> None:
    spec = TaskSpec()
    assert b'"dp"' not in spec.to_json()
    assert TaskSpec.from_json(spec.to_json()) == spec
    local = _local(1.0)
    assert privatize(spec, 0, 0, GLOBAL, local) is local


def test_a_dp_spec_round_trips_and_bad_settings_are_named() -> None:
    spec = _spec(2.0, 0.7)
    assert TaskSpec.from_json(spec.to_json()) == spec
    assert b'"dp":{"clip":2.0,"delta":1e-05,"noise_multiplier":0.7' in spec.to_json()
    for bad, needle in [
        ({"clip": 1.0}, "clipping alone"),
        ({"noise_multiplier": 1.0}, "needs a clip norm"),
        ({"clip": -1.0, "noise_multiplier": 1.0}, ">= 0"),
        ({"clip": 1.0, "noise_multiplier": 1.0, "delta": 1.0}, "delta"),
        ({"clip": math.inf, "noise_multiplier": 1.0}, "finite"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            DPSpec(**bad)
    with pytest.raises(ConfigError, match="dp has unknown field"):
        TaskSpec.from_json(spec.to_json().replace(b'"delta"', b'"sigma"'))


def test_clipping_bounds_the_update_norm_exactly() -> None:
    local = _local(3.0)
    assert dp.update_norm(GLOBAL, local) > 2.0
    clipped = dp.clip_update(GLOBAL, local, 2.0)
    assert dp.update_norm(GLOBAL, clipped) == pytest.approx(2.0, rel=1e-6)
    assert clipped["bn.num_batches_tracked"] == 9  # integer buffers are not learned
    assert all(clipped[k].dtype == v.dtype for k, v in GLOBAL.items())
    small = _local(0.01)
    kept = dp.clip_update(GLOBAL, small, 2.0)
    assert all(np.array_equal(kept[k], small[k]) for k in GLOBAL)  # under the norm: unchanged


def test_the_noise_is_seeded_by_task_client_and_round_with_the_specified_scale() -> None:
    spec, local = _spec(2.0, 0.5), _local(3.0)
    once = privatize(spec, 1, 4, GLOBAL, local)
    again = privatize(spec, 1, 4, GLOBAL, local)
    assert all(np.array_equal(once[k], again[k]) for k in GLOBAL)
    for other in (privatize(spec, 2, 4, GLOBAL, local), privatize(spec, 1, 5, GLOBAL, local)):
        assert not np.array_equal(once["a.weight"], other["a.weight"])
    rng = np.random.default_rng(derive_seed(spec.seed, "dp", 1, 4))
    expected = dp.privatize_update(GLOBAL, local, 2.0, 0.5, rng)
    assert all(np.array_equal(once[k], expected[k]) for k in GLOBAL)
    big = {"w": np.zeros(200_000, dtype=np.float32)}
    noised = privatize(_spec(2.0, 0.5), 0, 0, big, big)["w"]
    assert noised.std() == pytest.approx(0.5 * 2.0, rel=0.01)  # σ·C per value


def test_epsilon_per_client_counts_the_rounds_it_submitted_to() -> None:
    settings = DPSpec(clip=1.0, noise_multiplier=1.1)
    found = epsilon_by_round(settings, [(1, ["b"]), (0, ["a", "b"]), (2, ["a", "b", "b"])])
    one, two, three = (dp.epsilon(1.0, 1.1, n, 1e-5)[0] for n in (1, 2, 3))
    assert found[0] == {"a": round(one, 6), "b": round(one, 6)}
    assert found[1] == {"a": round(one, 6), "b": round(two, 6)}
    assert found[2] == {"a": round(two, 6), "b": round(three, 6)}  # one release per round
    assert client_epsilon(settings, 2) == dp.PrivacyAccountant(1.1, 1.0, steps=2).epsilon(1e-5)


def test_a_target_epsilon_derives_the_smallest_noise_that_meets_it() -> None:
    settings = for_epsilon(clip=1.0, target=8.0, rounds=3)
    assert settings.target_epsilon == 8.0
    assert client_epsilon(settings, 3) <= 8.0
    assert (
        client_epsilon(DPSpec(clip=1.0, noise_multiplier=settings.noise_multiplier - 1e-3), 3) > 8.0
    )
    assert dp_from_table({"clip": 1.0, "epsilon": 8.0}, 3) == settings


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"clip": 1.0, "noise": 1.0}, "unknown dp setting"),
        ({"clip": 1.0, "noise-multiplier": 1.0, "epsilon": 3.0}, "not both"),
        ({"epsilon": 3.0}, "needs a clip norm"),
        ({"clip": "1", "noise-multiplier": 1.0}, "clip must be a number"),
        ({"clip": 1.0, "epsilon": -1.0}, "positive"),
    ],
)
def test_bad_dp_tables_are_named(table: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        dp_from_table(table, 3)
