"""Clients and miners playing whole rounds against the in-memory chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from party_world import World, address, wait_until

import miners.miner
from clients.client import Client
from flchain.chain.protocol_types import Phase, TxResult
from flchain.chain.sampling import is_sampled
from flchain.exceptions import ContractRevertError, RoundTimeoutError
from flchain.party.participant import run_participant
from flchain.party.party import Party
from flchain.party.port import ChainPort
from flchain.party.workload import Workload, load_workload
from flchain.types import Address


@pytest.fixture(autouse=True)
def _quick_finalize(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(miners.miner, "FINALIZE_STAGGER_S", 0.01)


def test_an_honest_round_is_scored_finalized_certified_and_verified(tmp_path: Path) -> None:
    world = World(tmp_path, rounds=2)
    results = world.play(world.client(0), world.client(1), *world.miners())
    assert results == [0, 0, 0, 0, 0]  # no mismatches, no failures
    chain = world.chain
    assert chain.current == 2
    for r in (0, 1):
        rd = chain.rounds[r]
        assert rd.accepted == [0, 1]
        assert len(rd.reveals) == 3 and rd.certified is not None
        local = [e["cid"] for e in world.events("client", 0, "aggregated") if e["round"] == r]
        assert local == [rd.certified]
    for i in (0, 1):
        assert [e["round"] for e in world.events("client", i, "verified")] == [0, 1]
        assert world.events("client", i, "done")[0]["mismatches"] == 0
        assert world.events("client", i, "attested") == []  # clients no longer attest
    for j in range(3):
        assert len(world.events("miner", j, "committed")) == 2
        assert len(world.events("miner", j, "attested")) == 2


def test_a_miner_off_the_committee_only_aggregates(tmp_path: Path) -> None:
    world = World(tmp_path, committee_size=2, quorum=2)
    assert world.play(world.client(0), world.client(1), *world.miners()) == [0] * 5
    certified = world.chain.rounds[0].certified
    assert [e["seat"] for e in world.events("miner", 2, "committee")] == [None]
    for name in ("scored", "committed", "revealed", "attested"):
        assert world.events("miner", 2, name) == []
    assert [e["cid"] for e in world.events("miner", 2, "aggregated")] == [certified]
    assert len(world.events("miner", 0, "attested")) == 1


def test_a_client_not_drawn_only_aggregates_and_verifies(tmp_path: Path) -> None:
    world = World(tmp_path, clients=3, rounds=2, clients_per_round=1)
    results = world.play(*(world.client(i) for i in range(3)), *world.miners())
    assert results == [0] * 6
    for r in (0, 1):
        rd = world.chain.rounds[r]
        assert len(rd.submissions) == 1 and rd.accepted == [0] and rd.expected == 1
        drawn = [a for a in world.chain.clients if is_sampled(rd.seed, 3, 1, idx(world, a))]
        assert [s.client for s in rd.submissions] == drawn
        skipped = [e for i in range(3) for e in world.events("client", i, "not_sampled")]
        assert len([e for e in skipped if e["round"] == r]) == 2
    for i in range(3):  # drawn or not, everyone aggregated and verified both rounds
        assert [e["round"] for e in world.events("client", i, "verified")] == [0, 1]


def idx(world: World, account: Address) -> int:
    return world.chain.client_index[account]


def test_the_in_memory_chain_refuses_a_client_not_drawn(tmp_path: Path) -> None:
    world = World(tmp_path, clients=3, clients_per_round=1)
    ports = [world.chain.port(address("client", i)) for i in range(3)]
    for port in ports:
        port.register_client()
    world.chain.start_training()
    drawn = [p for p in ports if p.is_sampled(0)]
    assert len(drawn) == 1 and world.chain.info(0).expected_submissions == 1
    outsider = next(p for p in ports if p not in drawn)
    cid = world.params.initial_model_cid
    with pytest.raises(ContractRevertError) as exc:
        outsider.submit_update(0, cid, 1)
    assert (exc.value.name, exc.value.error_args) == ("NotSampled", (0, outsider.account))
    drawn[0].submit_update(0, cid, 1)
    assert world.chain.info(0).submit_end == world.chain.now  # closed: the one drawn submitted


def test_a_restarted_client_that_missed_submit_only_aggregates(tmp_path: Path) -> None:
    world = World(tmp_path, miners_=1, committee_size=1, quorum=1)
    late = world.client(1)
    late.register()  # its first life registered, then it stopped
    chain = world.chain
    results: list[int] = []

    def restart_after_submit() -> None:
        wait_until(lambda: len(chain.rounds[0].submissions) == 1)
        chain.advance(world.params.submit_duration)  # client 1 never came back in time
        results.append(late.run())

    assert world.play(world.client(0), world.miner(0), during=restart_after_submit) == [0, 0]
    assert results == [0]
    registered = world.events("client", 1, "registered")
    assert [e.get("again", False) for e in registered] == [False, True]
    assert world.events("client", 1, "submitted") == []
    assert [e["round"] for e in world.events("client", 1, "verified")] == [0]
    assert chain.rounds[0].accepted == [0]


def test_a_refused_submission_is_logged_and_the_round_goes_on(tmp_path: Path) -> None:
    world = World(tmp_path, miners_=1, committee_size=1, quorum=1)
    refusing = Refusing(world.chain.port(address("client", 0)), "submit_update", "NotInPhase")
    client = world.client(0)
    client.party.protocol = refusing  # type: ignore[assignment]

    def end_submit() -> None:
        wait_until(lambda: len(world.chain.rounds[0].submissions) == 1)
        world.chain.advance(world.params.submit_duration)

    assert world.play(client, world.client(1), world.miner(0), during=end_submit) == [0] * 3
    assert [e["error"] for e in world.events("client", 0, "submit_refused")] == ["NotInPhase"]
    assert [e["round"] for e in world.events("client", 0, "verified")] == [0]


def test_a_raced_finalization_is_logged_and_the_round_goes_on(tmp_path: Path) -> None:
    world = World(tmp_path, clients=1, miners_=1, committee_size=1, quorum=1)
    miner = world.miner(0)
    miner.party.protocol = Racing(miner.party.protocol, world.chain.port(address("client", 0)))  # type: ignore[assignment]
    assert world.play(world.client(0), miner) == [0, 0]
    assert [e["error"] for e in world.events("miner", 0, "finalize_raced")] == [
        "RoundAlreadyFinalized"
    ]
    assert world.chain.rounds[0].certified is not None
    assert [e["round"] for e in world.events("client", 0, "verified")] == [0]


def test_a_client_without_miners_times_out_naming_what_it_waited_for(tmp_path: Path) -> None:
    world = World(tmp_path, clients=1, miners_=1)
    (result,) = world.play(world.client(0, timeout=0.3))
    assert isinstance(result, RoundTimeoutError)
    assert str(result) == "timed out after 0.3 s waiting for round 0 to be finalized"
    assert world.chain.phase_of(0) == Phase.CLOSED  # nobody was there to finalize


def test_run_participant_logs_a_failure_and_reraises_it(tmp_path: Path) -> None:
    world = World(tmp_path, clients=1, miners_=1)
    world.chain.start_training()

    class Impatient(Client):
        def __init__(self, party: Party, work: Workload, index: int, behaviour: str) -> None:
            super().__init__(party, work, index, behaviour, round_timeout=0.2)

    party = world.party("client", 0)
    with pytest.raises(RoundTimeoutError, match="round 0 to be finalized"):
        run_participant(Impatient, party, load_workload(world.spec), 0, "honest")
    (failed,) = world.events("client", 0, "failed")
    assert "timed out" in failed["error"]


class Refusing:
    """A port whose ``method`` always reverts with ``error``."""

    def __init__(self, port: ChainPort, method: str, error: str) -> None:
        self.port, self.method, self.error = port, method, error

    def __getattr__(self, name: str) -> Any:
        if name == self.method:
            raise ContractRevertError(self.error, (0,), name)
        return getattr(self.port, name)


class Racing:
    """A port on which somebody else finalizes the round just before we do."""

    def __init__(self, port: ChainPort, other: ChainPort) -> None:
        self.port, self.other = port, other

    def finalize_round(self, round: int) -> TxResult:
        self.other.finalize_round(round)
        return self.port.finalize_round(round)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.port, name)
