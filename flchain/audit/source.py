"""Which task to audit, from the command line's options: node URL, address, first block.

Light on purpose (no web3, no torch), so bad options fail fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    origin: str = field(default="--rpc", compare=False)
    """Where the node's URL came from, for messages (e.g. ``recorded in run/task.json``)."""
    hint: str = field(default="", compare=False)
    """What to do when that node is not reachable."""


def resolve_source(
    testnet: Path | None = None,
    rpc_url: str | None = None,
    address: str | None = None,
    from_block: int | None = None,
    task_file: Path | None = None,
    fallback_testnet: Path | None = None,
) -> Source:
    """Combine ``--testnet``, ``--rpc``, ``--address``, ``--task`` and ``--from-block``.

    Explicit options win. The node is ``--rpc``, else the testnet file's, else
    the one a run's ``task.json`` recorded, else ``fallback_testnet``'s (the
    default testnet file, when present). A testnet file supplies, when no
    address is given, its default deployment (whose block is where to start); a
    run's ``task.json`` supplies the address and deployment block of that run.
    """
    task: dict[str, Any] = read_json(task_file, "task file") if task_file else {}
    recorded = task.get("rpc_url") or ""
    if not isinstance(recorded, str):
        raise ConfigError(f"task file {task_file}: rpc_url is not a string")
    if testnet is None and not rpc_url and not recorded:
        testnet = fallback_testnet
    info = TestnetInfo.load(testnet, required=()) if testnet else None
    if rpc_url:
        url, origin, hint = rpc_url, "--rpc", ""
    elif info and info.rpc_url:
        url, origin, hint = info.rpc_url, f"from testnet file {testnet}", ""
    elif recorded:
        url, origin, hint = recorded, f"recorded in {task_file}", _restart_hint(task)
    else:
        raise ConfigError("no node to read: pass --run DIR, --testnet FILE or --rpc URL")
    default = info.protocol if info else None
    protocol = address or task.get("protocol") or default
    if not protocol:
        raise ConfigError("no task address: pass --address ADDR (the testnet has no deployment)")
    start = from_block
    if start is None and task.get("protocol") == protocol:
        start = int(task.get("deployment_block") or 0)
    if start is None and default and str(default).lower() == str(protocol).lower():
        start = info.deployment_block if info else 0
    return Source(str(url), str(protocol), start or 0, origin, hint)


def _restart_hint(task: dict[str, Any]) -> str:
    if task.get("node_stops_with_run"):
        return (
            "the run started that node and stopped it when it ended, so its chain is gone; "
            "to audit after a run, start a node first (flchain testnet up --home H) "
            "and run with --home H"
        )
    return "start that node again, or pass --rpc URL or --testnet FILE"
