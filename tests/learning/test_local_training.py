"""Local training learns, is deterministic for a seed, and honours FedProx's μ."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flchain.exceptions import ConfigError, LearningError
from flchain.learning.data import load_dataset
from flchain.learning.models import build_model
from flchain.learning.training import TrainConfig, evaluate, train_local
from flchain.learning.weights import flatten, get_weights, weights_equal


@pytest.fixture(scope="module")
def digits() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    ds = load_dataset("digits")
    return (ds.x_train[:400], ds.y_train[:400]), (ds.x_test, ds.y_test)


def test_training_learns_digits(digits: tuple) -> None:
    train, test = digits
    model = build_model("digits-mlp", seed=0)
    start = get_weights(model)
    acc0, loss0 = evaluate(model, test, start)
    res = train_local(model, train, TrainConfig(epochs=5, lr=0.2, batch_size=16), start, seed=1)
    acc1, loss1 = evaluate(model, test, res.weights)
    assert res.num_samples == 400 and np.isfinite(res.loss)
    assert acc1 > 0.85 > acc0 and loss1 < loss0


def test_same_seed_same_bits_other_seed_other_bits(digits: tuple) -> None:
    train, _ = digits
    model = build_model("digits-cnn", seed=0)
    g = get_weights(model)
    cfg = TrainConfig(epochs=1, batch_size=32, lr=0.1, momentum=0.9)
    a = train_local(model, train, cfg, g, seed=7)
    b = train_local(build_model("digits-cnn", seed=0), train, cfg, g, seed=7)
    c = train_local(model, train, cfg, g, seed=8)
    assert weights_equal(a.weights, b.weights) and a.loss == b.loss
    assert not weights_equal(a.weights, c.weights)


def test_training_does_not_touch_global_rng(digits: tuple) -> None:
    train, _ = digits
    model = build_model("digits-mlp", seed=0)
    torch.manual_seed(11)
    expected = torch.rand(1)
    torch.manual_seed(11)
    train_local(model, train, TrainConfig(), get_weights(model), seed=0)
    assert torch.equal(torch.rand(1), expected)


def test_proximal_term_keeps_weights_near_global(digits: tuple) -> None:
    train, _ = digits
    model = build_model("digits-mlp", seed=0)
    g = get_weights(model)
    free = train_local(model, train, TrainConfig(epochs=3, lr=0.1), g, seed=0)
    prox = train_local(model, train, TrainConfig(epochs=3, lr=0.1, proximal_mu=5.0), g, seed=0)
    dist = lambda w: np.linalg.norm(flatten(w) - flatten(g))  # noqa: E731
    assert dist(prox.weights) < 0.7 * dist(free.weights)


def test_adam_trains(digits: tuple) -> None:
    train, test = digits
    model = build_model("digits-mlp", seed=0)
    cfg = TrainConfig(epochs=3, lr=0.01, optimizer="adam")
    res = train_local(model, train, cfg, get_weights(model), seed=0)
    assert evaluate(model, test, res.weights)[0] > 0.85


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "learning rate"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"proximal_mu": -0.1}, "proximal mu"),
    ],
)
def test_bad_config_is_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs)


def test_empty_data_and_missing_cuda_are_clear_errors(digits: tuple) -> None:
    model = build_model("digits-mlp")
    g = get_weights(model)
    empty = (np.zeros((0, 64), np.float32), np.zeros(0, np.int64))
    with pytest.raises(LearningError, match="empty"):
        train_local(model, empty, TrainConfig(), g, seed=0)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            train_local(model, digits[0], TrainConfig(device="cuda"), g, seed=0)
