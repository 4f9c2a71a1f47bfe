"""Where the history comes from: a node, a task address, a content store.

The auditor needs no run directory and nobody's cooperation: an RPC URL and
the protocol's address (from ``--testnet``, ``--rpc``/``--address`` or a run's
``task.json``) give the whole history through :func:`read_history`; the task
spec and every model come from the content store by the CIDs on chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flchain.chain.history import ProtocolHistory
from flchain.exceptions import ConfigError, FLchainError
from flchain.run.spec import TaskSpec
from flchain.storage.base import ContentStore

SPEC_MAX_BYTES = 1 << 20
ArrayPair = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Source:
    """A task to audit: the node that has its chain, its address, where its events start."""

    rpc_url: str
    protocol: str
    from_block: int = 0


def resolve_source(
    testnet: Path | None = None,
    rpc_url: str | None = None,
    address: str | None = None,
    from_block: int | None = None,
    task_file: Path | None = None,
) -> Source:
    """Combine ``--testnet``, ``--rpc``, ``--address``, ``--task`` and ``--from-block``.

    Explicit options win; the testnet file supplies the RPC URL and, when no
    address is given, its default deployment (whose block is where to start).
    A run's ``task.json`` supplies the address and deployment block of that run.
    """
    record: dict[str, Any] = _read_json(testnet, "testnet file") if testnet else {}
    task: dict[str, Any] = _read_json(task_file, "task file") if task_file else {}
    url = rpc_url or record.get("rpc_url")
    if not url:
        raise ConfigError("no node to read: pass --testnet FILE or --rpc URL")
    default = (record.get("contracts") or {}).get("FLProtocol")
    protocol = address or task.get("protocol") or default
    if not protocol:
        raise ConfigError("no task address: pass --address ADDR (the testnet has no deployment)")
    start = from_block
    if start is None and task.get("protocol") == protocol:
        start = int(task.get("deployment_block") or 0)
    if start is None and default and str(default).lower() == str(protocol).lower():
        start = int(record.get("deployment_block") or 0)
    return Source(str(url), str(protocol), start or 0)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{what} {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must be a JSON object")
    return data


def load_history(source: Source) -> ProtocolHistory:
    """Connect to the node and read the task's history and state."""
    from flchain.chain.connection import connect
    from flchain.chain.history import read_history

    return read_history(connect(source.rpc_url), source.protocol, from_block=source.from_block)


def load_spec(store: ContentStore, spec_cid: str) -> TaskSpec:
    """The task spec, fetched (and verified) by its on-chain CID."""
    try:
        return TaskSpec.from_json(store.get(spec_cid, max_size=SPEC_MAX_BYTES))
    except FLchainError as exc:
        raise ConfigError(f"cannot load the task spec {spec_cid}: {exc}") from exc


def load_test_data(name: str) -> ArrayPair:
    """Held-out test data: a built-in data set's test split, or an ``.npz`` file's."""
    from flchain.learning.data import load_dataset

    is_file = name.endswith(".npz")
    dataset = load_dataset("npz", path=name) if is_file else load_dataset(name)
    return dataset.x_test, dataset.y_test
