"""Which task to audit, from the command line's options: node URL, address, first block.

Light on purpose (no web3, no torch), so bad options fail fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flchain.chain.testnet import TestnetInfo, read_json
from flchain.exceptions import ConfigError


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
    info = TestnetInfo.load(testnet, required=()) if testnet else None
    task: dict[str, Any] = read_json(task_file, "task file") if task_file else {}
    url = rpc_url or (info.rpc_url if info else "")
    if not url:
        raise ConfigError("no node to read: pass --testnet FILE or --rpc URL")
    default = info.protocol if info else None
    protocol = address or task.get("protocol") or default
    if not protocol:
        raise ConfigError("no task address: pass --address ADDR (the testnet has no deployment)")
    start = from_block
    if start is None and task.get("protocol") == protocol:
        start = int(task.get("deployment_block") or 0)
    if start is None and default and str(default).lower() == str(protocol).lower():
        start = info.deployment_block if info else 0
    return Source(str(url), str(protocol), start or 0)
