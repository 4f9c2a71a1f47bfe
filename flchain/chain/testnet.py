"""A local testnet: start a node, deploy the protocol, record where everything is.

``up`` starts Anvil, Ganache or the embedded py-evm server in the background,
deploys FLToken and FLProtocol, and writes ``<home>/testnet.json`` (what clients
and miners read: RPC URL, chain id, mnemonic, contract addresses, deployment
block) and ``deployments/<chainId>.json``. With a state directory the chain
survives ``down``/``up``, and the recorded deployment is reused, not redeployed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import requests

from flchain.chain.node import (
    BACKENDS,
    NodeConfig,
    NodeProcess,
    find_tool,
    port_in_use,
    runs_backend,
    start_node,
    stop_pid,
)
from flchain.exceptions import ConfigError, FLchainError, TestnetError

TESTNET_FILE = "testnet.json"
DEPLOYMENT_FILE = "deployment.json"  # inside a state directory: the deployment to reuse
PLACEHOLDER_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
"""CID of the empty file: the initial model and spec of a testnet deployed without a task."""


@dataclass(frozen=True)
class TestnetInfo:
    """The typed ``testnet.json``: the one reader of the record ``up`` writes.

    Clients, miners, the orchestrator, the auditor and ``status``/``down`` all
    read the file through :meth:`load`; ``record`` keeps every key for display.
    """

    __test__ = False  # not a pytest test class

    rpc_url: str
    chain_id: int
    mnemonic: str
    protocol: str | None
    deployment_block: int
    funded_accounts: int = 0
    backend: str = "anvil"
    pid: int | None = None
    record: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, path: Path, *, required: Sequence[str] = ("rpc_url", "mnemonic")) -> TestnetInfo:
        """Read a testnet file, naming the missing key (of ``required``) on error."""
        raw = read_json(path, "testnet file")
        missing = [key for key in required if key not in raw]
        if missing:
            raise ConfigError(f"testnet file {path} has no {missing[0]!r}")
        try:
            contracts = raw.get("contracts") or {}
            return cls(
                rpc_url=str(raw.get("rpc_url", "")),
                chain_id=int(raw.get("chain_id") or 0),
                mnemonic=str(raw.get("mnemonic", "")),
                protocol=contracts.get("FLProtocol"),
                deployment_block=int(raw.get("deployment_block") or 0),
                funded_accounts=len(raw.get("accounts") or ()),
                backend=str(raw.get("backend", "anvil")),
                pid=int(raw["pid"]) if raw.get("pid") is not None else None,
                record=raw,
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"testnet file {path} has a malformed entry: {exc}") from exc


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; a :class:`ConfigError` naming ``what`` and why otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{what} {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must be a JSON object")
    return data


@dataclass(frozen=True)
class UpOptions:
    """What ``flchain testnet up`` was asked for."""

    backend: str = "anvil"
    config: NodeConfig = field(default_factory=NodeConfig)
    home: Path = Path(".flchain")
    deployments: Path = Path("deployments")
    state_dir: Path | None = None
    task: dict[str, Any] | None = None  # TaskParams fields; None: config's flchain.task
    deploy: bool = True


def up(options: UpOptions) -> dict[str, Any]:
    """Start a node, deploy (or reuse) the protocol, write and return the testnet record."""
    if options.backend not in BACKENDS:
        raise ConfigError(f"unknown backend {options.backend!r}; choose {', '.join(BACKENDS)}")
    fallback = None
    if options.backend == "anvil" and options.state_dir is None and not _has_tool("anvil"):
        fallback = "anvil not found (no node_modules?): using the embedded py-evm node"
        options = replace(options, backend="embedded")
    if options.state_dir is not None and options.backend == "embedded":
        raise ConfigError("--state needs a persistent backend (anvil or ganache)")
    _refuse_if_running(options.home, options.config.port)
    options.home.mkdir(parents=True, exist_ok=True)
    state_dir = options.state_dir.resolve() if options.state_dir else None
    node = start_node(
        options.backend,
        options.config,
        log_path=options.home / "node.log",
        state_dir=state_dir,
    )
    try:
        deployment = _deployment(node, options, state_dir)
    except (FLchainError, OSError) as exc:
        node.stop()
        raise TestnetError(f"node started but deployment failed: {exc}") from exc
    record = _record(node, options, state_dir, deployment)
    if fallback:
        record["fallback"] = fallback
    _write_json(options.home / TESTNET_FILE, record)
    if deployment is not None:
        saved = {k: v for k, v in deployment.items() if k != "reused"}
        _write_json(options.deployments / f"{node.chain_id}.json", saved)
    return record


def status(home: Path) -> dict[str, Any]:
    """The testnet record plus ``alive`` and (when alive) ``block_number``."""
    info = read_info(home)
    record = dict(info.record)
    alive = runs_backend(int(info.pid or 0), info.backend)
    record["alive"] = False
    record["block_number"] = None
    if alive:
        body: dict[str, Any] = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_blockNumber",
            "params": [],
        }
        try:
            reply = requests.post(info.rpc_url, json=body, timeout=5).json()
            record["block_number"] = int(reply["result"], 16)
            record["alive"] = True
        except (requests.RequestException, ValueError, KeyError, TypeError):
            pass
    return record


def down(home: Path, timeout: float = 30.0) -> dict[str, Any]:
    """Stop the recorded node (SIGTERM, wait: Anvil dumps its state) and forget it."""
    info = read_info(home)
    pid = int(info.pid or 0)
    was_alive = runs_backend(pid, info.backend)
    if was_alive:
        stop_pid(pid, timeout)
    (home / TESTNET_FILE).unlink(missing_ok=True)
    return {**info.record, "alive": False, "stopped": was_alive}


def read_info(home: Path) -> TestnetInfo:
    """The ``testnet.json`` of a node started in ``home``; a clear error when there is none."""
    path = home / TESTNET_FILE
    if not path.exists():
        raise TestnetError(f"no testnet recorded in {path} (start one with `flchain testnet up`)")
    try:
        return TestnetInfo.load(path, required=("pid", "rpc_url"))
    except ConfigError as exc:
        raise TestnetError(f"{path} is not a testnet record: {exc}") from exc


def task_params(fields_: dict[str, Any]) -> Any:
    """``TaskParams`` from a dict of field names (CIDs default to the empty-file CID)."""
    from flchain.chain.protocol_types import TaskParams

    known = {f.name for f in fields(TaskParams)}
    unknown = sorted(set(fields_) - known)
    if unknown:
        raise ConfigError(f"unknown task parameter(s) {', '.join(unknown)}; known: {sorted(known)}")
    values = {"initial_model_cid": PLACEHOLDER_CID, "spec_cid": PLACEHOLDER_CID, **fields_}
    try:
        return TaskParams(**values)
    except TypeError as exc:
        raise ConfigError(f"bad task parameters: {exc}") from exc


def _has_tool(name: str) -> bool:
    try:
        find_tool(name)
    except TestnetError:
        return False
    return True


def _refuse_if_running(home: Path, port: int) -> None:
    if (home / TESTNET_FILE).exists():
        try:
            info: TestnetInfo | None = read_info(home)
        except TestnetError:
            info = None
        if info is not None and runs_backend(int(info.pid or 0), info.backend):
            raise TestnetError(
                f"a testnet is already running (pid {info.pid}, {info.rpc_url}); "
                "stop it with `flchain testnet down`"
            )
    if port_in_use(port):
        raise TestnetError(f"port {port} is already in use; pick another with --port")


def _deployment(
    node: NodeProcess, options: UpOptions, state_dir: Path | None
) -> dict[str, Any] | None:
    if not options.deploy:
        return None
    from flchain.chain.accounts import accounts_from_mnemonic
    from flchain.chain.connection import connect, rpc

    w3 = connect(node.rpc_url)
    saved = state_dir / DEPLOYMENT_FILE if state_dir else None
    if saved is not None and saved.exists():
        recorded = json.loads(saved.read_text())
        code = rpc(w3, "eth_getCode", [recorded["contracts"]["FLProtocol"], "latest"])
        if recorded.get("chain_id") == node.chain_id and code not in ("0x", "", None):
            return {**recorded, "reused": True}
    from flchain.chain.deploy import deploy_protocol
    from flchain.chain.transactor import Transactor

    transactor = Transactor(w3)
    deployer = transactor.add_account(accounts_from_mnemonic(node.mnemonic, 1)[0])
    task = options.task if options.task is not None else options.config.extra.get("flchain", {})
    params = task_params(dict(task.get("task", task)) if isinstance(task, dict) else {})
    deployed = deploy_protocol(transactor, deployer, params)
    deployment = {
        "chain_id": deployed.chain_id,
        "contracts": {"FLProtocol": deployed.protocol, "FLToken": deployed.token},
        "deployment_block": deployed.block,
        "deployer": deployed.deployer,
        "task_params": asdict(params),
        "deployed_at": int(time.time()),
    }
    if saved is not None:
        _write_json(saved, deployment)
    return {**deployment, "reused": False}


def _record(
    node: NodeProcess,
    options: UpOptions,
    state_dir: Path | None,
    deployment: dict[str, Any] | None,
) -> dict[str, Any]:
    from flchain.chain.accounts import HD_PATH, accounts_from_mnemonic

    accounts = accounts_from_mnemonic(node.mnemonic, node.accounts)
    return {
        "backend": node.backend,
        "rpc_url": node.rpc_url,
        "chain_id": node.chain_id,
        "pid": node.pid,
        "port": node.port,
        "mnemonic": node.mnemonic,
        "hd_path": HD_PATH,
        "accounts": [a.address for a in accounts],
        "contracts": deployment["contracts"] if deployment else {},
        "deployment_block": deployment["deployment_block"] if deployment else None,
        "deployer": deployment["deployer"] if deployment else None,
        "reused_deployment": bool(deployment and deployment["reused"]),
        "state_dir": str(state_dir) if state_dir else None,
        "log": str((options.home / "node.log").resolve()),
        "started_at": int(time.time()),
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)
