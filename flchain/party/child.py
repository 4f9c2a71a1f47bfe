"""Shared start-up and run of the ``flchain client`` and ``flchain miner`` processes."""

from __future__ import annotations

import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from flchain.exceptions import ConfigError, FLchainError
from flchain.party.behaviours import Role
from flchain.party.participant import Participant, run_participant
from flchain.party.party import Party, TestnetInfo, join_task
from flchain.party.roundlog import EventLog
from flchain.party.workload import Workload, load_workload
from flchain.spawn import watch_supervisor
from flchain.storage.factory import open_store
from flchain.task.accounts import client_account, miner_account

ACCOUNT_OF = {Role.CLIENT: client_account, Role.MINER: miner_account}
"""Mnemonic account index of a role's party ``index``."""


@dataclass(frozen=True)
class Where:
    """Where a party process finds its task: the node (its testnet file), the task contract
    (default: the testnet's), the store (a directory or a Kubo URL), its log directory and
    the local copy of the task's app or task module."""

    testnet: Path
    task: str | None = None
    store_dir: str | None = None
    kubo_url: str | None = None
    log_dir: Path | None = None
    app_dir: Path | None = None
    task_module: str | None = None


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def prepare_process(log_format: str) -> None:
    """What every party process does first: SIGTERM exits cleanly (also when the run that
    started it is gone), and log lines go to stderr in ``log_format``."""
    signal.signal(signal.SIGTERM, _terminate)
    watch_supervisor()
    logging.basicConfig(level=logging.INFO, format=log_format, stream=sys.stderr)


def start_child(role: Role, index: int, account_index: int, where: Where) -> tuple[Party, Workload]:
    """Join the task and build the workload (its app or module checked against the
    certified CID);
    SIGTERM exits cleanly."""
    prepare_process(f"%(asctime)s {role}-{index} %(levelname)s %(message)s")
    log = EventLog(where.log_dir, role, index)
    info = TestnetInfo.load(where.testnet)
    store = open_store(where.store_dir, where.kubo_url)
    party = join_task(info, where.task, account_index, store, log)
    count = party.spec.clients if role == Role.CLIENT else party.spec.miners
    if not 0 <= index < count:
        raise ConfigError(f"{role} index {index} is not in this task (it has {count} {role}s)")
    workload = load_workload(party.spec, app_dir=where.app_dir, task_module=where.task_module)
    partitions = workload.program.partitions
    own = partitions.client(index) if role == Role.CLIENT else partitions.miner(index)
    workload.program.warm_up(own)
    log.emit("started", round=-1, address=party.address, task=party.task)
    return party, workload


def run_child(kind: type[Participant], index: int, behaviour: str, where: Where) -> int:
    """Join, then run one party to the end: its exit status (2 when stopped by an error)."""
    role = kind.role
    try:
        party, work = start_child(role, index, ACCOUNT_OF[role](index), where)
        return run_participant(kind, party, work, index, behaviour)
    except FLchainError as exc:
        print(f"{role} {index}: {exc}", file=sys.stderr)
        return 2
