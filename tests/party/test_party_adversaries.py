"""Adversarial clients and miners on the in-memory chain: what the round makes of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from party_world import World, address, wait_until

import miners.miner


@pytest.fixture(autouse=True)
def _quick_finalize(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(miners.miner, "FINALIZE_STAGGER_S", 0.01)


def test_a_no_reveal_miner_commits_and_the_round_ends_by_time(tmp_path: Path) -> None:
    world = World(tmp_path)
    chain = world.chain
    silent = address("miner", 0)

    def reveal_phase_times_out() -> None:
        wait_until(lambda: 0 in chain.rounds and len(chain.rounds[0].reveals) == 2)
        chain.advance(world.params.reveal_duration)

    parties = [world.client(0), world.client(1), world.miner(0, "no-reveal"), world.miner(1)]
    assert world.play(*parties, world.miner(2), during=reveal_phase_times_out) == [0] * 5
    rd = chain.rounds[0]
    assert silent in rd.commitments and silent not in rd.reveals
    assert rd.accepted == [0, 1] and rd.certified is not None
    assert len(world.events("miner", 0, "committed")) == 1
    assert world.events("miner", 0, "revealed") == []


def test_one_wrong_aggregate_miner_is_outvoted(tmp_path: Path) -> None:
    world = World(tmp_path)
    parties = [world.client(0), world.client(1), world.miner(0, "wrong-aggregate")]
    assert world.play(*parties, world.miner(1), world.miner(2)) == [0] * 5
    rd = world.chain.rounds[0]
    forged = rd.attestations[address("miner", 0)]
    assert forged != rd.certified
    assert rd.attestations[address("miner", 1)] == rd.certified
    assert [e["round"] for e in world.events("client", 0, "verified")] == [0]


def test_a_quorum_of_wrong_aggregate_miners_is_caught_by_every_client(tmp_path: Path) -> None:
    world = World(tmp_path)
    liars = [world.miner(0, "wrong-aggregate"), world.miner(1, "wrong-aggregate")]
    results = world.play(world.client(0), world.client(1), *liars, world.miner(2))
    assert results == [1, 1, 0, 0, 0]  # each client's exit status counts its mismatch
    certified = world.chain.rounds[0].certified
    for i in (0, 1):
        (mismatch,) = world.events("client", i, "aggregate_mismatch")
        assert mismatch["certified"] == certified != mismatch["local"]


def test_noise_and_plagiarist_clients_are_rejected_and_the_honest_one_accepted(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, clients=3)
    clients = [world.client(0), world.client(1, "noise"), world.client(2, "plagiarist")]
    assert world.play(*clients, *world.miners()) == [0] * 6
    rd = world.chain.rounds[0]
    by_client = {s.client: s.index for s in rd.submissions}
    assert rd.accepted == [by_client[address("client", 0)]]
    assert world.events("client", 1, "trained") == []  # the noise client does not train
