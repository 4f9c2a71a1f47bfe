"""A tiny task on the in-memory chain: digits MLP, a few parties, a local store in a tmp dir.

    world = World(tmp_path, clients=2, miners=3)
    results = world.play(world.client(0), world.client(1), *world.miners())

``play`` runs every participant in its own thread (as separate processes would
run), opens round 0 once all have registered, and returns each one's result or
the exception it raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from clients.client import Client
from flchain.chain.protocol_types import TaskParams
from flchain.party.memchain import MemChain
from flchain.party.participant import Participant
from flchain.party.party import Party
from flchain.party.port import ChainPort
from flchain.party.roundlog import EventLog, read_events
from flchain.party.workload import load_workload
from flchain.run.setup import pin_task_inputs
from flchain.storage.local import LocalStore
from flchain.task.quality import ACCEPTANCE_THRESHOLD
from flchain.task.spec import TaskSpec, TrainSpec
from flchain.types import Address
from miners.miner import Miner

POLL_S = 0.002
TIMEOUT_S = 10.0
SPEC = TaskSpec(clients=2, miners=3, rounds=1, seed=1, train=TrainSpec(epochs=1, batch_size=32))


def address(role: str, index: int) -> Address:
    """A distinct, stable address per party (clients 0xc1.., miners 0xd1..)."""
    prefix = "c1" if role == "client" else "d1"
    return Address("0x" + prefix + f"{index:038x}")


PARAMS = {"acceptance_threshold": ACCEPTANCE_THRESHOLD}
"""Task parameters other than :class:`TaskParams`' defaults."""


class World:
    """``clients``, ``miners_``, ``rounds`` (1) and ``compression`` go to the spec, the other
    ``fields`` (any field of :class:`TaskParams`, e.g. ``committee_size``, ``quorum``) to the
    chain."""

    def __init__(self, tmp: Path, clients: int = 2, miners_: int = 3, **fields: Any) -> None:
        self.miners_ = miners_
        rounds, compression = fields.pop("rounds", 1), fields.pop("compression", "")
        self.spec = replace(
            SPEC, clients=clients, miners=miners_, rounds=rounds, compression=compression
        )
        self.store = LocalStore(tmp / "store")
        spec_cid, initial_cid = pin_task_inputs(self.store, self.spec)
        self.params = TaskParams(initial_cid, spec_cid, **{**PARAMS, **fields})
        self.chain = MemChain(self.params)
        self.logs = tmp / "logs"

    def party(self, role: str, index: int, port: ChainPort | None = None) -> Party:
        log = EventLog(self.logs, role, index)
        return Party(
            port or self.chain.port(address(role, index)),
            self.store,
            self.params,
            self.spec,
            bytes([index + 1]) * 32,
            log,
            POLL_S,
            self.chain.time,
        )

    def client(self, i: int, behaviour: str = "honest", timeout: float = TIMEOUT_S) -> Client:
        work = load_workload(self.spec)
        return Client(self.party("client", i), work, i, behaviour, round_timeout=timeout)

    def miner(self, j: int, behaviour: str = "honest", timeout: float = TIMEOUT_S) -> Miner:
        work = load_workload(self.spec)
        return Miner(self.party("miner", j), work, j, behaviour, round_timeout=timeout)

    def miners(self) -> list[Miner]:
        return [self.miner(j) for j in range(self.miners_)]

    def events(self, role: str, index: int, name: str | None = None) -> list[dict[str, Any]]:
        events = read_events(self.logs / f"{role}-{index}.jsonl")
        return [e for e in events if name is None or e["event"] == name]

    def play(self, *parties: Participant, during: Callable[[], None] = lambda: None) -> list[Any]:
        """Run ``parties`` in threads; open round 0 once all registered; then call ``during``."""
        results: list[Any] = [None] * len(parties)

        def run(k: int) -> None:
            try:
                results[k] = parties[k].run()
            except Exception as exc:  # handed back to the test
                results[k] = exc

        threads = [
            threading.Thread(target=run, args=(k,), daemon=True) for k in range(len(parties))
        ]
        for t in threads:
            t.start()
        wait_until(lambda: len(self.chain.miners) + len(self.chain.clients) >= len(parties))
        self.chain.start_training()
        during()
        for t in threads:
            t.join(TIMEOUT_S * 2)
        assert not any(t.is_alive() for t in threads), "a participant never finished"
        return results


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    """Poll ``condition`` (a test's view of the in-memory chain) until it holds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition never held"
        time.sleep(POLL_S)
