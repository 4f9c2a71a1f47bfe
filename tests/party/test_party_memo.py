"""One aggregate per round for a pool's clients: computed once, shared, keyed by its inputs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from flchain.learning.strategies import StrategyState
from flchain.party.memo import AggregateMemo
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, RoundAggregate
from flchain.types import CIDStr

CID = CIDStr("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
MODEL = GlobalModel(0, CID, {"w": np.zeros(2, np.float32)})


def _update(index: int, samples: int = 10) -> AcceptedUpdate:
    return AcceptedUpdate(index, CID, samples, "0x" + "1" * 40, {"w": np.ones(2, np.float32)})


def _result(tag: int) -> RoundAggregate:
    return RoundAggregate(GlobalModel(1, CID, {"w": np.full(2, tag, np.float32)}), b"x")


def test_many_clients_at_once_get_one_computation() -> None:
    memo = AggregateMemo()
    calls: list[int] = []
    gate = threading.Event()

    def compute() -> RoundAggregate:
        calls.append(1)
        gate.wait(5)
        return _result(7)

    with ThreadPoolExecutor(8) as pool:
        futures = [
            pool.submit(memo.get, 0, MODEL, [_update(0), _update(1)], compute) for _ in range(8)
        ]
        gate.set()
        outcomes = [f.result() for f in futures]
    assert len(calls) == 1
    assert sum(computed for _, computed in outcomes) == 1
    assert all(result is outcomes[0][0] for result, _ in outcomes)


def test_other_inputs_compute_their_own() -> None:
    memo = AggregateMemo()
    memo.get(0, MODEL, [_update(0)], lambda: _result(1))
    other_state = GlobalModel(0, CID, MODEL.weights, StrategyState(round=1))
    for r, model, accepted in (
        (1, MODEL, [_update(0)]),  # another round
        (0, MODEL, [_update(0, samples=11)]),  # another claim
        (0, MODEL, [_update(0), _update(1)]),  # another accepted set
        (0, other_state, [_update(0)]),  # another strategy state
    ):
        result, computed = memo.get(r, model, accepted, lambda: _result(2))
        assert computed and result.model.weights["w"][0] == 2
    # the order of the accepted list is not an input
    _, computed = memo.get(0, MODEL, [_update(1), _update(0)], lambda: _result(3))
    assert not computed


def test_a_failed_computation_is_forgotten_and_the_memo_is_bounded() -> None:
    memo = AggregateMemo(capacity=2)

    def fail() -> RoundAggregate:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        memo.get(0, MODEL, [], fail)
    assert memo.get(0, MODEL, [], lambda: _result(4))[1]
    memo.get(1, MODEL, [], lambda: _result(5))
    memo.get(2, MODEL, [], lambda: _result(6))
    assert memo.get(0, MODEL, [], lambda: _result(8))[1]  # evicted: computed again
