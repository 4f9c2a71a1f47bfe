"""The pieces of a client pool that need no chain: index ranges and the shared update cache."""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from party_world import SPEC

from flchain.app.builtin import BuiltinProgram
from flchain.exceptions import ConfigError
from flchain.learning.weights import get_weights, weights_equal
from flchain.party.participant import Participant
from flchain.party.pool import MAX_POOL_SIZE, SharedUpdates, parse_indices, run_pool
from flchain.party.workload import load_workload


def test_indices_are_ranges_and_single_numbers() -> None:
    assert parse_indices("0-3,7") == [0, 1, 2, 3, 7]
    assert parse_indices(" 5 ") == [5]
    assert parse_indices(f"0-{MAX_POOL_SIZE - 1}") == list(range(MAX_POOL_SIZE))
    for bad, why in (
        ("a-3", "not N or N-M"),
        ("3-1", "0 <= N <= M"),
        ("-1", "not N or N-M"),
        ("0-2,2", "twice"),
        (f"0-{MAX_POOL_SIZE}", f"at most {MAX_POOL_SIZE}"),
        ("", "not N or N-M"),
    ):
        with pytest.raises(ConfigError, match=why):
            parse_indices(bad)


def test_shared_updates_are_read_only_bounded_and_survive_a_clients_clear() -> None:
    cache = SharedUpdates(capacity=2)
    first = {"w": np.zeros(3, np.float32)}
    cache["a"] = first
    with pytest.raises(ValueError, match="read-only"):
        cache["a"]["w"][0] = 1.0
    cache.clear()  # one client's end of round: the others still read "a"
    assert cache["a"] is first
    cache["b"] = {"w": np.ones(3, np.float32)}
    cache["c"] = {"w": np.ones(3, np.float32)}
    assert list(cache) == ["b", "c"] and len(cache) == 2 and "a" not in cache
    del cache["b"]
    assert list(cache) == ["c"]


def test_pool_members_train_their_own_model_copies_at_once_on_shared_data() -> None:
    program = load_workload(SPEC).builtin
    twin = program.with_own_model()
    assert isinstance(twin, BuiltinProgram)
    assert twin.model is not program.model and twin.data is program.data
    assert weights_equal(get_weights(twin.model), get_weights(program.model))
    start = program.initial_weights()
    alone = program.train(0, start, 0, 7).weights
    with ThreadPoolExecutor(2) as slots:  # two compute slots: each trains its own model
        together = list(slots.map(lambda p: p.train(0, start, 0, 7).weights, (program, twin)))
    assert all(weights_equal(w, alone) for w in together)
    assert not weights_equal(alone, start)


def test_a_pool_refuses_bad_input_with_exit_status_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    testnet = tmp_path / "testnet.json"
    testnet.write_text(json.dumps({"rpc_url": "http://127.0.0.1:9", "mnemonic": "test " * 11}))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        where = (testnet, None, str(tmp_path / "store"), None, None)
        assert run_pool(_never, [0, 1], ["honest"], *where) == 2
        assert "1 behaviours for 2 clients" in capsys.readouterr().err
        assert run_pool(_never, [0], ["honest"], *where, compute_slots=0) == 2
        assert "at least one compute slot" in capsys.readouterr().err
        missing = (tmp_path / "none.json", None, None, None, None)
        assert run_pool(_never, [0], ["honest"], *missing) == 2
        assert "cannot read testnet file" in capsys.readouterr().err
    finally:
        signal.signal(signal.SIGTERM, previous)


def _never(*args: object) -> Participant:
    raise AssertionError("no client may be made from bad input")
