"""Local development nodes: Anvil (default), Ganache, or the embedded py-evm server.

All three read one :class:`NodeConfig`, parsed from Ganache's own nested config
format (``ganache-config.json``: ``chain.chainId``, ``wallet.mnemonic``, ...) and
mapped onto each program's flags. Nodes listen on 127.0.0.1 only and run in
their own process group, so they outlive (or are cleanly stopped by) whoever
started them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from flchain.chain import DEFAULT_MNEMONIC
from flchain.exceptions import ConfigError, TestnetError
from flchain.spawn import spawn_detached

BACKENDS = ("anvil", "ganache", "embedded")
_REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class NodeConfig:
    """What a local node is started with (the subset of Ganache's options we use)."""

    chain_id: int = 31337
    mnemonic: str = DEFAULT_MNEMONIC
    accounts: int = 20
    balance_eth: int = 10_000
    block_time: float = 0
    gas_limit: int = 30_000_000
    hardfork: str | None = None
    host: str = "127.0.0.1"
    port: int = 8545
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_ganache(cls, options: dict[str, Any]) -> NodeConfig:
        """Parse Ganache's nested option format; unknown top-level sections go to ``extra``."""
        try:
            chain = options.get("chain", {})
            wallet = options.get("wallet", {})
            miner = options.get("miner", {})
            server = options.get("server", {})
            base = cls()
            return cls(
                chain_id=int(chain.get("chainId", base.chain_id)),
                mnemonic=str(wallet.get("mnemonic", base.mnemonic)),
                accounts=int(wallet.get("totalAccounts", base.accounts)),
                balance_eth=int(wallet.get("defaultBalance", base.balance_eth)),
                block_time=float(miner.get("blockTime", base.block_time)),
                gas_limit=_int(miner.get("blockGasLimit", base.gas_limit)),
                hardfork=chain.get("hardfork"),
                host=str(server.get("host", base.host)),
                port=int(server.get("port", base.port)),
                extra={k: v for k, v in options.items() if k not in _GANACHE_SECTIONS},
            )
        except (AttributeError, TypeError, ValueError) as exc:
            raise ConfigError(f"bad node configuration: {exc}") from exc

    @classmethod
    def load(cls, path: Path) -> NodeConfig:
        """Read a ``ganache-config.json``-style file."""
        try:
            options = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read node config {path}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"node config {path} is not valid JSON: {exc}") from exc
        if not isinstance(options, dict):
            raise ConfigError(f"node config {path} must be a JSON object")
        return cls.from_ganache(options)

    def with_port(self, port: int) -> NodeConfig:
        """A copy listening on ``port``."""
        return replace(self, port=port)


_GANACHE_SECTIONS = frozenset({"chain", "wallet", "miner", "server", "database", "logging"})


@dataclass(frozen=True)
class NodeProcess:
    """A running node: where it answers, and its process id."""

    backend: str
    pid: int
    port: int
    rpc_url: str
    chain_id: int
    mnemonic: str
    accounts: int

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the node's process group and wait (Anvil dumps its state on exit)."""
        stop_pid(self.pid, timeout)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def find_tool(name: str) -> str:
    """The path of ``anvil``/``ganache``: the checkout's node_modules, then the cwd's, then PATH."""
    for root in (_REPO_ROOT, Path.cwd()):
        candidate = root / "node_modules" / ".bin" / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise TestnetError(
            f"{name} not found (run `npm ci` in the checkout, or use --backend embedded)"
        )
    return found


def node_command(backend: str, config: NodeConfig, state_dir: Path | None = None) -> list[str]:
    """The command line that starts ``backend`` with ``config``."""
    if backend == "anvil":
        cmd = [find_tool("anvil"), "--host", config.host, "--port", str(config.port)]
        cmd += ["--chain-id", str(config.chain_id), "--mnemonic", config.mnemonic]
        cmd += ["--accounts", str(config.accounts), "--balance", str(config.balance_eth)]
        cmd += ["--gas-limit", str(config.gas_limit)]
        if config.block_time > 0:
            cmd += ["--block-time", f"{config.block_time:g}"]
        if config.hardfork:
            cmd += ["--hardfork", config.hardfork]
        if state_dir is not None:
            cmd += ["--state", str(state_dir / "anvil-state.json"), "--state-interval", "2"]
        return cmd
    if backend == "ganache":
        cmd = [
            find_tool("ganache"),
            "--server.host",
            config.host,
            "--server.port",
            str(config.port),
        ]
        cmd += ["--chain.chainId", str(config.chain_id), "--wallet.mnemonic", config.mnemonic]
        cmd += ["--wallet.totalAccounts", str(config.accounts)]
        cmd += ["--wallet.defaultBalance", str(config.balance_eth)]
        cmd += ["--miner.blockGasLimit", hex(config.gas_limit)]
        cmd += ["--miner.blockTime", f"{config.block_time:g}", "--logging.quiet"]
        if config.hardfork:
            cmd += ["--chain.hardfork", config.hardfork]
        if state_dir is not None:
            cmd += ["--database.dbPath", str(state_dir / "ganache-db")]
        return cmd
    if backend == "embedded":
        cmd = [sys.executable, "-m", "flchain.chain.embedded_node"]
        cmd += ["--host", config.host, "--port", str(config.port), "--mnemonic", config.mnemonic]
        cmd += ["--accounts", str(config.accounts), "--balance", str(config.balance_eth)]
        cmd += ["--gas-limit", str(config.gas_limit)]
        return cmd
    raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def start_node(
    backend: str,
    config: NodeConfig,
    *,
    log_path: Path,
    state_dir: Path | None = None,
    ready_timeout: float = 60.0,
) -> NodeProcess:
    """Start ``backend`` in its own process group, logging to ``log_path``; wait till it answers."""
    if config.host not in ("127.0.0.1", "localhost"):
        raise ConfigError(f"local nodes listen on 127.0.0.1 only, not {config.host!r}")
    if port_in_use(config.port, config.host):
        raise TestnetError(f"port {config.port} is already in use on {config.host}")
    cmd = node_command(backend, config, state_dir)
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        try:
            proc = spawn_detached(cmd, log)
        except OSError as exc:
            raise TestnetError(f"cannot start {backend}: {exc}") from exc
    rpc_url = f"http://{config.host}:{config.port}"
    try:
        chain_id = wait_ready(rpc_url, ready_timeout, proc)
    except TestnetError:
        stop_pid(proc.pid, 5.0)
        raise
    return NodeProcess(
        backend, proc.pid, config.port, rpc_url, chain_id, config.mnemonic, config.accounts
    )


def start_on_free_port(
    backend: str, config: NodeConfig, *, log_path: Path, attempts: int = 3
) -> NodeProcess:
    """Start ``backend`` on a free port, trying another if one is taken in the meantime."""
    for attempt in range(attempts):
        try:
            return start_node(backend, config.with_port(free_port()), log_path=log_path)
        except TestnetError:
            if attempt == attempts - 1:
                raise
    raise TestnetError("no attempts made")  # unreachable with attempts >= 1


def wait_ready(rpc_url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> int:
    """Poll ``eth_chainId`` until the node answers; returns the chain id."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    while True:
        if proc is not None and proc.poll() is not None:
            raise TestnetError(f"node exited with code {proc.returncode} before answering")
        try:
            reply = requests.post(rpc_url, json=body, timeout=2).json()
            return int(reply["result"], 16)
        except (requests.RequestException, ValueError, KeyError, TypeError):
            if time.monotonic() > deadline:
                raise TestnetError(
                    f"node at {rpc_url} did not answer within {timeout:g} s"
                ) from None
            time.sleep(0.1)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (and is not a zombie we could reap)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runs_backend(pid: int, backend: str) -> bool:
    """Whether process ``pid`` is (still) a ``backend`` node, not a stranger that got its pid.

    Reads ``/proc/<pid>/cmdline``; where there is no ``/proc`` it trusts a live pid.
    """
    if not pid_alive(pid):
        return False
    marker = "embedded_node" if backend == "embedded" else backend
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True
    return marker.encode() in cmdline


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM process group ``pid``, wait up to ``timeout``, then SIGKILL it."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError as exc:
            raise TestnetError(f"not allowed to stop process {pid}: {exc}") from exc
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)
    if pid_alive(pid):
        raise TestnetError(f"process {pid} did not stop")


def _int(value: Any) -> int:
    if isinstance(value, str):
        return int(value, 0)
    return int(value)
