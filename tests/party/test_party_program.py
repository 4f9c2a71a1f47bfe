"""A task program that fails inside training costs its client that round, nothing more."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pytest
from party_world import World, wait_until

import miners.miner
from flchain.app.builtin import BuiltinProgram
from flchain.app.program import TrainResult
from flchain.exceptions import AppError
from flchain.party.participant import Participant
from flchain.types import Weights


@pytest.fixture(autouse=True)
def _quick_finalize(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(miners.miner, "FINALIZE_STAGGER_S", 0.01)


P = TypeVar("P", bound=Participant)


class CrashingProgram(BuiltinProgram):
    """The built-in program whose training raises in round 0 (as a broken app's would)."""

    def train(
        self, partition_id: int, weights: Weights, server_round: int, seed: int
    ) -> TrainResult:
        if server_round == 0:
            raise AppError("the app's train raised ZeroDivisionError: division by zero")
        return super().train(partition_id, weights, server_round, seed)


def crashing(party: P) -> P:
    """``party``, its built-in program turned into a ``CrashingProgram``."""
    program = party.work.program
    assert isinstance(program, BuiltinProgram)
    program.__class__ = CrashingProgram
    return party


def test_a_crash_inside_train_loses_that_round_and_the_task_goes_on(tmp_path: Path) -> None:
    world = World(tmp_path, rounds=2)
    broken = crashing(world.client(0))
    chain = world.chain

    def end_submit_by_time() -> None:  # client 0 never submits round 0
        wait_until(lambda: len(chain.rounds[0].submissions) == 1)
        wait_until(lambda: bool(world.events("client", 0, "train_failed")))
        chain.advance(world.params.submit_duration)

    results = world.play(broken, world.client(1), *world.miners(), during=end_submit_by_time)
    assert results == [0, 0, 0, 0, 0]
    (failed,) = world.events("client", 0, "train_failed")
    assert failed["round"] == 0 and "ZeroDivisionError" in failed["error"]
    assert len(world.chain.rounds[0].submissions) == 1  # only client 1's
    assert world.chain.rounds[1].accepted == [0, 1]  # client 0 is back in round 1
    assert [e["round"] for e in world.events("client", 0, "verified")] == [0, 1]


def test_a_miner_whose_program_fails_scores_nothing_and_says_why(tmp_path: Path) -> None:
    world = World(tmp_path, miners_=3)
    failing = crashing(world.miner(0))
    results = world.play(world.client(0), world.client(1), failing, world.miner(1), world.miner(2))
    assert results == [0] * 5
    assert world.chain.rounds[0].accepted == [0, 1]  # the two others carry the vote
    (scored,) = world.events("miner", 0, "scored")
    assert "ZeroDivisionError" in scored["error"]
