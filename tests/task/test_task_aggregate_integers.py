"""Integer buffers through a round: pinned, fetched, aggregated exactly by their own rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from batchnorm_net import BatchNormNet, trained_batchnorm_net

from flchain.learning.strategies import ClientUpdate, strategy_from_name
from flchain.learning.weights import get_weights, integer_names, set_weights
from flchain.storage import LocalStore
from flchain.storage.codec import (
    ArchitectureSpec,
    ModelMeta,
    decode_weights,
    decode_weights_from_store,
    encode_weights,
)
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, RoundAggregate, aggregate_round
from flchain.task.quality import Evaluation, score_round
from flchain.task.spec import ScoreRules, TaskSpec
from flchain.types import Address, CIDStr, RoundId, Weights

TASK = "0x" + "12" * 20
PARENT = CIDStr("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
STEPS = (4, 1, 3, 2)  # each client's BatchNorm counter
SAMPLES = (
    10,
    17,
    24,
    31,
)  # counter:weight is 1:17, 2:31, 3:24, 4:10; half of 82 is first reached at 2


def _client(i: int) -> Weights:
    weights = get_weights(trained_batchnorm_net(i + 1, STEPS[i]))
    weights["mask"] = np.array([i % 2 == 0, i == 3, True])
    weights["counts"] = (weights["counts"].astype(np.int64) // (i + 1)).astype(np.int32)
    return weights


def _pinned(store: LocalStore, spec: ArchitectureSpec) -> list[AcceptedUpdate]:
    """Every client's update encoded, pinned, and fetched back from a fresh handle on the store."""
    cids = []
    for i in range(len(STEPS)):
        meta = ModelMeta(RoundId(0), Address("0x" + f"{i + 1:02x}" * 20), "bn-net", PARENT)
        cids.append(store.put(encode_weights(_client(i), meta), pin=True))
    reader = LocalStore(store.root)
    return [
        AcceptedUpdate(
            i, cid, SAMPLES[i], f"c{i}", decode_weights_from_store(reader, cid, expected=spec)[0]
        )
        for i, cid in enumerate(cids)
    ]


def _lower_weighted_median(values: list[int], weights: tuple[int, ...]) -> int:
    """The first value, in sorted order, at which the running weight reaches half the total."""
    running = 0
    for value, weight in sorted(zip(values, weights, strict=True), key=lambda p: p[0]):
        running += weight
        if 2 * running >= sum(weights):
            return value
    raise AssertionError("unreachable")


def _round(
    strategy: str, updates: list[AcceptedUpdate], global_weights: Weights, clip: bool
) -> RoundAggregate:
    spec = TaskSpec(arch="bn-net", clip_updates=clip)
    model = GlobalModel(0, PARENT, global_weights)
    return aggregate_round(strategy_from_name(strategy), model, updates, task=TASK, spec=spec)


@pytest.mark.parametrize("clip", [False, True])
def test_a_batchnorm_model_round_trips_bit_exactly_through_pin_fetch_and_aggregate(
    tmp_path: Path, clip: bool
) -> None:
    global_weights = get_weights(trained_batchnorm_net(0, 2))
    spec = ArchitectureSpec.from_weights(global_weights)
    fetched = _pinned(LocalStore(tmp_path / "store"), spec)
    for i, update in enumerate(fetched):
        sent = _client(i)
        assert list(update.weights) == list(sent)  # names and state-dict order
        for name, array in sent.items():
            got = update.weights[name]
            assert got.dtype == array.dtype and got.tobytes() == array.tobytes(), name
    result = _round("fedavg", fetched, global_weights, clip)
    assert result.data is not None
    in_memory = [
        AcceptedUpdate(u.index, u.cid, u.num_samples, u.client, _client(u.index)) for u in fetched
    ]
    assert _round("fedavg", in_memory, global_weights, clip).data == result.data
    out = result.model.weights
    assert out["bn.num_batches_tracked"].dtype == np.int64
    assert int(out["bn.num_batches_tracked"]) == 2
    assert out["mask"].tolist() == [False, False, True]  # weighted majority per flag
    assert out["counts"].dtype == np.int32
    assert out["counts"].tolist() == [[1, -3], [715827882, -715827883]]
    for name in integer_names(global_weights):  # every value by the rule, computed plainly
        columns = zip(*(_client(i)[name].ravel().tolist() for i in range(4)), strict=True)
        want = [_lower_weighted_median(list(values), SAMPLES) for values in columns]
        assert out[name].ravel().tolist() == want, name
    aggregate = LocalStore(tmp_path / "store").put(result.data, pin=True)
    assert aggregate == result.model.cid
    again, _ = decode_weights_from_store(LocalStore(tmp_path / "store"), aggregate, expected=spec)
    model = BatchNormNet()
    set_weights(model, again)
    for name, tensor in model.state_dict().items():
        assert tensor.numpy().dtype == out[name].dtype, name
        assert tensor.numpy().tobytes() == out[name].tobytes(), name


@pytest.mark.parametrize("strategy", ["fedavg", "fedmedian", "krum", "fedadam", "foolsgold"])
def test_integer_buffers_leave_the_float_aggregate_bit_identical(strategy: str) -> None:
    global_weights = get_weights(trained_batchnorm_net(0, 2))
    updates = [
        AcceptedUpdate(i, CIDStr(f"u{i}"), SAMPLES[i], f"c{i}", _client(i)) for i in range(4)
    ]
    with_ints = _round(strategy, updates, global_weights, True)
    ints = integer_names(global_weights)
    strip = {k: v for k, v in global_weights.items() if k not in ints}
    floats_only = _round(
        strategy,
        [
            AcceptedUpdate(
                u.index,
                u.cid,
                u.num_samples,
                u.client,
                {k: v for k, v in u.weights.items() if k not in ints},
            )
            for u in updates
        ],
        strip,
        True,
    )
    for name, array in floats_only.model.weights.items():
        assert with_ints.model.weights[name].tobytes() == array.tobytes(), name
    assert with_ints.data is not None
    assert decode_weights(with_ints.data)[0]["bn.num_batches_tracked"].dtype == np.int64


def test_integer_buffers_follow_the_updates_the_strategy_credits() -> None:
    global_weights = get_weights(trained_batchnorm_net(0, 2))
    updates = [
        AcceptedUpdate(i, CIDStr(f"u{i}"), SAMPLES[i], f"c{i}", _client(i)) for i in range(4)
    ]
    krum = strategy_from_name("krum").aggregate(
        global_weights,
        [ClientUpdate(f"{u.index}", u.weights, u.num_samples, client=u.client) for u in updates],
    )
    (winner,) = krum.accepted
    chosen = updates[int(winner)].weights
    for name in integer_names(global_weights):
        assert krum.weights[name].tobytes() == chosen[name].tobytes(), name
    # uniform shares (FedMedian): the lower median of 1, 2, 3, 4 is 2
    median = _round("fedmedian", updates, global_weights, False).model.weights
    assert int(median["bn.num_batches_tracked"]) == 2


def test_quality_signals_ignore_integer_buffers() -> None:
    """A client that only inflates its BatchNorm counter is scored like one that does not."""
    global_weights = get_weights(trained_batchnorm_net(0, 2))
    honest = [_client(i) for i in range(4)]
    inflated = [dict(w) for w in honest]
    inflated[2]["bn.num_batches_tracked"] = np.array(2**62, dtype=np.int64)
    base = Evaluation(0.5, 1.0)

    def evaluate(weights: Weights) -> Evaluation:
        assert weights["bn.num_batches_tracked"].dtype == np.int64  # buffers reach the model
        return base

    def verdicts(updates: list[Weights]) -> list[tuple[int, str]]:
        result = score_round(
            global_weights,
            list(updates),
            evaluate,
            base,
            ScoreRules(),
            reference=honest[0],
            samples=list(SAMPLES),
        )
        return [(int(v.score), v.reason) for v in result]

    scored = verdicts(honest)
    assert sum(score > 0 for score, _ in scored) >= 3, scored
    assert verdicts(inflated) == scored
