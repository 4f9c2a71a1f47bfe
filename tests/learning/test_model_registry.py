"""Every registered architecture builds deterministically and round-trips its weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flchain.exceptions import AggregationError, ConfigError
from flchain.learning.models import ARCHITECTURES, build_model, default_arch
from flchain.learning.weights import (
    flatten,
    get_weights,
    num_parameters,
    set_weights,
    unflatten,
    weights_equal,
)


@pytest.mark.parametrize("arch_id", sorted(ARCHITECTURES))
def test_architecture_builds_runs_and_is_seeded(arch_id: str) -> None:
    arch = ARCHITECTURES[arch_id]
    model = build_model(arch_id, seed=3)
    out = model(torch.zeros(5, arch.num_features))
    assert out.shape == (5, 10)
    assert weights_equal(get_weights(model), get_weights(build_model(arch_id, seed=3)))
    assert not weights_equal(get_weights(model), get_weights(build_model(arch_id, seed=4)))


def test_build_model_leaves_global_torch_rng_alone() -> None:
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    build_model("digits-cnn", seed=9)
    assert torch.equal(torch.rand(1), expected)


def test_weights_round_trip_through_model_and_flat_vector() -> None:
    model = build_model("mnist1d-cnn", seed=0)
    w = get_weights(model)
    assert all(v.dtype == np.float32 for v in w.values())
    flat = flatten(w)
    assert flat.size == num_parameters(w)
    w2 = unflatten(flat * 2, w)
    set_weights(model, w2)
    assert weights_equal(get_weights(model), w2)


def test_mismatched_weights_are_rejected() -> None:
    model = build_model("digits-mlp")
    w = get_weights(model)
    key = sorted(w)[0]
    with pytest.raises(AggregationError, match="shape"):
        set_weights(model, {**w, key: np.zeros((1, 1), np.float32)})
    with pytest.raises(AggregationError, match="missing"):
        set_weights(model, {k: v for k, v in w.items() if k != key})
    with pytest.raises(AggregationError, match="flat vector"):
        unflatten(np.zeros(3), w)


def test_unknown_architecture_and_defaults() -> None:
    with pytest.raises(ConfigError, match="unknown architecture"):
        build_model("resnet-152")
    assert default_arch("digits", 64) == "digits-mlp"
    assert default_arch("custom", 3072) == "cifar-cnn"
    with pytest.raises(ConfigError, match="no registered architecture"):
        default_arch("custom", 7)
