"""The faults of ``scripts/chaos.py``: one plan per trial, and the thread that injects it.

A :class:`Plan` names the fault, the round and the phase; the :class:`Injector`
is started by ``run_task``'s ``on_started`` hook, waits on the chain until that
round reaches that phase, does the fault once, and then times how long the round
it hit takes to complete (finalized, and certified if anything was accepted).
"""

from __future__ import annotations

import contextlib
import errno
import json
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase
from flchain.party.party import TestnetInfo
from flchain.run.procs import ChildSet
from flchain.run.setup import Task, admin_transactor
from flchain.storage.base import iter_dag_blocks
from flchain.storage.cid import as_cid
from flchain.storage.local import LocalStore

FAULTS = (
    "kill-client",
    "kill-committee-miner",
    "kill-finalizer",
    "stop-miner",
    "restart-chain",
    "delete-block",
    "disk-full",
)
PHASES = ("submit", "commit", "reveal")
POLL_S = 0.05
DISK_FULL_HOLD_S = 10.0  # how long the store stays full before the filler is removed


@dataclass
class Plan:
    """One trial's fault, drawn from the seed; ``target`` is filled in when it is done."""

    trial: int
    seed: int
    fault: str
    round: int
    phase: str
    work: str
    budget_s: float
    pick: int  # which client/miner, when the fault needs one

    @classmethod
    def draw(
        cls, trial: int, seed: int, faults: list[str], rounds: int, work: Path, budget: float
    ) -> Plan:
        rng = random.Random(f"{seed}:{trial}")
        order = random.Random(seed).sample(faults, len(faults))
        fault = order[trial % len(order)]
        return cls(
            trial,
            seed,
            fault,
            rng.randrange(rounds),
            rng.choice(PHASES),
            str(work),
            budget,
            rng.randrange(1 << 16),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Record:
    """What the injector did (read by the trial's checks)."""

    fired_round: int | None = None
    fired_phase: str = ""
    target: str = ""
    note: str = ""
    fired_at: float | None = None
    recovery_s: float | None = None
    damaged_round: int | None = None  # delete-block: whose update lost a block
    damaged_cid: str = ""
    victims: list[str] = field(default_factory=list)  # children the fault took down


class Injector:
    """Injects ``plan``'s fault from a daemon thread started by ``on_started``."""

    def __init__(
        self, plan: Plan, home: Path, store_dir: Path, restart: Callable[[], float]
    ) -> None:
        self.plan = plan
        self.home = home
        self.store_dir = store_dir
        self.restart = restart
        self.record = Record()
        self.done = threading.Event()
        self.children: ChildSet | None = None
        self.viewer: ProtocolClient | None = None
        self.pids: dict[str, int] = {}

    def start(self, children: ChildSet, task: Task) -> None:
        self.children = children
        self.pids = {c.name: c.pid for c in children.children.values()}
        (Path(self.plan.work) / "pids.json").write_text(json.dumps(self.pids))
        transactor, admin = admin_transactor(TestnetInfo.load(self.home / "testnet.json"))
        self.viewer = ProtocolClient(transactor, task.protocol, admin, from_block=task.block)
        threading.Thread(target=self._run, name="chaos", daemon=True).start()

    def _run(self) -> None:
        try:
            self._wait_for(self.plan.round, Phase[self.plan.phase.upper()])
            self.record.fired_at = time.monotonic()
            hit = self._now()[0]
            getattr(self, "_" + self.plan.fault.replace("-", "_"))()
            if self.plan.fault != "delete-block":
                self._time_recovery(hit)
        except Exception as exc:  # recorded, never raised into the run
            self.record.note += f" injector error: {type(exc).__name__}: {exc}"
        finally:
            self.done.set()

    # --- waiting on the chain --------------------------------------------------

    def _now(self) -> tuple[int, Phase]:
        assert self.viewer is not None
        for _ in range(200):  # the node may be restarting: retry for up to ~10 s
            try:
                r = self.viewer.current_round()
                return r, self.viewer.phase(r)
            except Exception:
                time.sleep(POLL_S)
        raise TimeoutError("the chain did not answer for 10 s")

    def _wait_for(self, round_: int, phase: Phase) -> None:
        deadline = time.monotonic() + self.plan.budget_s
        while time.monotonic() < deadline:
            r, p = self._now()
            if (r, p) >= (round_, phase):
                self.record.fired_round, self.record.fired_phase = r, p.name.lower()
                if (r, p) != (round_, phase):
                    self.record.note += f" fired late, at round {r} {p.name.lower()};"
                return
            time.sleep(POLL_S)
        raise TimeoutError(f"round {round_} never reached {phase.name.lower()}")

    def _complete(self, r: int) -> bool:
        assert self.viewer is not None
        if self.viewer.phase(r) != Phase.FINALIZED:
            return False
        return not self.viewer.accepted_updates(r) or self.viewer.certified_aggregate(r) is not None

    def _time_recovery(self, r: int) -> None:
        assert self.record.fired_at is not None
        deadline = self.record.fired_at + self.plan.budget_s
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if self._complete(r):
                    self.record.recovery_s = round(time.monotonic() - self.record.fired_at, 2)
                    return
            time.sleep(0.2)

    # --- the faults ------------------------------------------------------------

    def _kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        assert self.children is not None
        self.children.kill(name, sig)
        self.record.target = name
        if sig == signal.SIGKILL:
            self.record.victims.append(name)

    def _miner_name(self, address: str) -> str:
        from flchain.chain.accounts import account_from_mnemonic
        from flchain.task.accounts import miner_account

        info = TestnetInfo.load(self.home / "testnet.json")
        for j in range(len([n for n in self.pids if n.startswith("miner-")])):
            if account_from_mnemonic(info.mnemonic, miner_account(j)).address == address:
                return f"miner-{j}"
        raise LookupError(f"no miner has address {address}")

    def _committee(self) -> tuple[str, ...]:
        assert self.viewer is not None and self.record.fired_round is not None
        return self.viewer.committee(self.record.fired_round)

    def _kill_client(self) -> None:
        clients = sorted(n for n in self.pids if n.startswith("client-"))
        self._kill(clients[self.plan.pick % len(clients)])

    def _kill_committee_miner(self) -> None:
        seats = self._committee()
        self._kill(self._miner_name(seats[self.plan.pick % len(seats)]))

    def _kill_finalizer(self) -> None:
        self._kill(self._miner_name(self._committee()[0]))  # seat 0 finalizes first
        self.record.note += " seat 0 of the committee (the first to finalize);"

    def _stop_miner(self) -> None:
        assert self.viewer is not None and self.record.fired_round is not None
        seats = self._committee()
        name = self._miner_name(seats[self.plan.pick % len(seats)])
        self._kill(name, signal.SIGSTOP)
        reveal_end = self.viewer.round_info(self.record.fired_round).reveal_end
        try:
            deadline = time.monotonic() + self.plan.budget_s / 2
            while time.time() < reveal_end + 2 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            self._kill(name, signal.SIGCONT)
        self.record.note += (
            f" stopped until {max(0.0, time.time() - reveal_end):.1f} s past reveal end;"
        )

    def _restart_chain(self) -> None:
        self.record.target = "anvil"
        seconds = self.restart()
        self.record.note += f" node down and back from its state file in {seconds:.2f} s;"

    def _delete_block(self) -> None:
        assert self.viewer is not None and self.record.fired_round is not None
        deadline = time.monotonic() + self.plan.budget_s / 2
        while time.monotonic() < deadline:
            done = [q for q in range(self.record.fired_round + 1) if self._complete(q)]
            rounds = [q for q in done if self.viewer.accepted_updates(q)]
            if rounds:
                break
            time.sleep(0.2)
        else:
            raise TimeoutError("no round with accepted updates completed")
        q = rounds[-1]
        updates = self.viewer.accepted_updates(q)
        update = updates[self.plan.pick % len(updates)]
        store = LocalStore(self.store_dir)
        blocks = [cid for cid, _ in iter_dag_blocks(store.get_block, as_cid(update.cid))]
        victim = blocks[self.plan.pick % len(blocks)]
        store.block_path(victim).unlink()
        self.record.target = f"block {victim} of update {update.index} ({update.cid})"
        self.record.damaged_round, self.record.damaged_cid = q, update.cid
        self.record.fired_round = q
        self.record.note += f" round {q}: {len(blocks)} block(s) in that update;"

    def _disk_full(self) -> None:
        self.record.target = str(self.store_dir)
        filler = self.store_dir / "chaos-filler"
        written = fill_disk(filler)
        try:
            time.sleep(DISK_FULL_HOLD_S)
        finally:
            filler.unlink(missing_ok=True)
        self.record.note += f" store full ({written >> 10} KiB filler) for {DISK_FULL_HOLD_S:g} s;"


def fill_disk(path: Path, chunk: int = 1 << 16) -> int:
    """Write ``path`` until the filesystem says ENOSPC; return the bytes written."""
    written = 0
    block = b"\0" * chunk
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(block) or 0
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if chunk == 1:
                    return written
                chunk //= 2
                block = block[:chunk]
