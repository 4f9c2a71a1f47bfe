"""Integer buffers in the learning core: kept exactly, never averaged as floats."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from batchnorm_net import BatchNormNet, trained_batchnorm_net

from flchain.exceptions import AggregationError
from flchain.learning.aggregation import weighted_median
from flchain.learning.dp import clip_update, privatize_update, update_norm
from flchain.learning.strategies import ClientUpdate, strategy_from_name
from flchain.learning.training import TrainConfig, evaluate, train_local
from flchain.learning.weights import (
    check_compatible,
    flatten,
    float_names,
    get_weights,
    integer_names,
    set_weights,
    unflatten,
)

BIG = np.iinfo(np.int64).max


def test_weighted_median_is_exact_and_keeps_the_dtype() -> None:
    X = np.array([[BIG, -BIG - 1, 7], [BIG - 1, 0, 7], [5, 3, 9]], dtype=np.int64)
    out = weighted_median(X, [1.0, 1.0, 1.0])
    assert out.dtype == np.int64
    assert out.tolist() == [BIG - 1, 0, 7]  # no float rounding, no overflow
    assert weighted_median(X, [0.0, 0.0, 2.0]).tolist() == [5, 3, 9]  # only credited rows count
    assert weighted_median(X, [3.0, 1.0, 1.0]).tolist() == X[0].tolist()  # a majority wins
    scalars = np.array([4, 1, 3, 2], dtype=np.uint8)
    assert weighted_median(scalars, [1, 1, 1, 1]).shape == ()
    assert int(weighted_median(scalars, [1, 1, 1, 1])) == 2  # the lower median


def test_weighted_median_of_flags_is_the_weighted_majority_with_ties_false() -> None:
    flags = np.array([[True, True, False], [False, True, False]])
    assert weighted_median(flags, [1.0, 1.0]).tolist() == [False, True, False]
    assert weighted_median(flags, [2.0, 1.0]).tolist() == [True, True, False]
    assert weighted_median(flags, [2.0, 1.0]).dtype == np.bool_


def test_weighted_median_does_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(-5, 5, size=(5, 40), dtype=np.int32)
    w = [3.0, 0.0, 1.0, 2.5, 1.0]
    want = weighted_median(X, w).tolist()
    for perm in itertools.islice(itertools.permutations(range(5)), 0, 120, 7):
        assert weighted_median(X[list(perm)], [w[i] for i in perm]).tolist() == want


@pytest.mark.parametrize(
    "weights", [[1.0], [1.0, -1.0], [0.0, 0.0], [1.0, float("nan")], [1.0, float("inf")]]
)
def test_weighted_median_refuses_bad_weights(weights: list[float]) -> None:
    with pytest.raises(AggregationError, match="weighted median"):
        weighted_median(np.zeros((2, 3), np.int64), weights)


def test_get_and_set_weights_carry_integer_buffers_exactly() -> None:
    model = trained_batchnorm_net(3, steps=5)
    weights = get_weights(model)
    assert list(weights) == list(model.state_dict())
    assert integer_names(weights) == ["bn.num_batches_tracked", "counts", "mask"]
    assert "bn.running_var" in float_names(weights)
    assert int(weights["bn.num_batches_tracked"]) == 5
    fresh = BatchNormNet()
    set_weights(fresh, weights)
    for name, tensor in fresh.state_dict().items():
        assert tensor.numpy().tobytes() == weights[name].tobytes(), name
    with pytest.raises(AggregationError, match=re.escape("missing ['bn.num_batches_tracked']")):
        set_weights(fresh, {k: v for k, v in weights.items() if k != "bn.num_batches_tracked"})
    wrong = {**weights, "counts": weights["counts"].astype(np.int64)}
    with pytest.raises(AggregationError, match="'counts' has dtype int64, model expects"):
        set_weights(fresh, wrong)


def test_training_advances_the_counter_and_keeps_its_dtype() -> None:
    model = BatchNormNet()
    start = get_weights(model)
    rng = np.random.default_rng(1)
    data = (rng.normal(size=(40, 1, 6, 6)).astype(np.float32), rng.integers(0, 3, size=40))
    result = train_local(model, data, TrainConfig(epochs=2, batch_size=10, lr=0.05), start, 7)
    assert result.weights["bn.num_batches_tracked"].dtype == np.int64
    assert int(result.weights["bn.num_batches_tracked"]) == 8  # 2 epochs x 4 batches
    assert result.weights["mask"].tolist() == start["mask"].tolist()
    accuracy, loss = evaluate(BatchNormNet(), data, result.weights)
    assert 0 <= accuracy <= 1 and np.isfinite(loss)


def test_flat_vectors_cover_the_float_tensors_only() -> None:
    weights = get_weights(trained_batchnorm_net(0))
    vector = flatten(weights, np.float32)
    assert vector.size == sum(weights[k].size for k in float_names(weights))
    back = unflatten(vector.astype(np.float64), weights)
    for name, array in weights.items():
        assert back[name].dtype == array.dtype and back[name].tobytes() == array.tobytes(), name
    with pytest.raises(AggregationError, match="buffer 'counts' is int64, expected int32"):
        check_compatible(weights, {**weights, "counts": weights["counts"].astype(np.int64)}, "u")
    with pytest.raises(
        AggregationError, match=re.escape("weight 'bn.bias' is int64, expected a float")
    ):
        check_compatible(weights, {**weights, "bn.bias": np.zeros(4, np.int64)}, "u")


def test_privacy_clips_and_noises_float_values_only() -> None:
    g, local = get_weights(trained_batchnorm_net(0)), get_weights(trained_batchnorm_net(1, 6))
    floats = {k: g[k] for k in float_names(g)}
    assert update_norm(g, local) == update_norm(floats, local)
    noisy = privatize_update(g, local, 0.1, 1.0, np.random.default_rng(0))
    clipped = clip_update(g, local, 0.1)
    for name in integer_names(g):
        assert noisy[name].tobytes() == clipped[name].tobytes() == local[name].tobytes(), name


def test_every_strategy_aggregates_integer_buffers_to_a_value_some_update_sent() -> None:
    g = get_weights(trained_batchnorm_net(0, 1))
    updates = [
        ClientUpdate(f"u{i}", get_weights(trained_batchnorm_net(i + 1, i + 2)), 10 * (i + 1))
        for i in range(7)
    ]
    for name in (
        "fedavg",
        "fedavgm",
        "fedadam",
        "fedmedian",
        "fedtrimmedavg",
        "krum",
        "multikrum",
        "bulyan",
        "foolsgold",
        "reputationavg",
    ):
        result = strategy_from_name(name).aggregate(g, updates)
        counter = result.weights["bn.num_batches_tracked"]
        assert counter.dtype == np.int64 and counter.shape == (), name
        assert int(counter) in {2, 3, 4, 5, 6, 7, 8}, name
        again = strategy_from_name(name).aggregate(g, list(reversed(updates)))
        assert again.weights["bn.num_batches_tracked"] == counter, name
