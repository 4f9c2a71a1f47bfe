"""Shared start-up of the ``flchain client`` and ``flchain miner`` processes."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from flchain.exceptions import ConfigError
from flchain.party.party import Party, TestnetInfo, join_task
from flchain.party.roundlog import EventLog
from flchain.party.workload import Workload, load_workload, warm_up
from flchain.storage.factory import open_store


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def start_child(
    role: str,
    index: int,
    account_index: int,
    testnet: Path,
    task: str | None,
    store_dir: str | None,
    kubo_url: str | None,
    log_dir: Path | None,
) -> tuple[Party, Workload]:
    """Join the task and build the workload; SIGTERM exits cleanly."""
    signal.signal(signal.SIGTERM, _terminate)
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s {role}-{index} %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    log = EventLog(log_dir, role, index)
    info = TestnetInfo.load(testnet)
    store = open_store(store_dir, kubo_url)
    party = join_task(info, task, account_index, store, log)
    count = party.spec.clients if role == "client" else party.spec.miners
    if not 0 <= index < count:
        raise ConfigError(f"{role} index {index} is not in this task (it has {count} {role}s)")
    workload = load_workload(party.spec)
    own = workload.data.clients[index].train if role == "client" else workload.data.miners[index]
    warm_up(workload, own)
    log.emit("started", round=-1, address=party.address, task=party.task)
    return party, workload
