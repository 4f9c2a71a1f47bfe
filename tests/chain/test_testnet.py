"""`flchain testnet up | status | down` as real subprocesses, on every backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flchain.chain import Transactor, accounts_from_mnemonic, connect, rpc
from flchain.chain.node import free_port, pid_alive
from flchain.chain.protocol import ProtocolClient

CLI = [sys.executable, "-c", "from flchain.cli import main; main()", "testnet"]


def flchain(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if check and out.returncode != 0:
        raise AssertionError(f"flchain testnet {' '.join(args)} failed:\n{out.stderr}")
    return out


def flchain_json(cwd: Path, *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(flchain(cwd, *args, "--json").stdout)
    return result


@pytest.fixture
def workdir(tmp_path: Path, repo_root: Path) -> Any:
    """A project directory with the repo's ganache-config.json; any node left is stopped."""
    (tmp_path / "ganache-config.json").write_text((repo_root / "ganache-config.json").read_text())
    yield tmp_path
    record = tmp_path / ".flchain" / "testnet.json"
    if record.exists():
        pid = json.loads(record.read_text())["pid"]
        if pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "backend", ["anvil", pytest.param("ganache", marks=pytest.mark.slow), "embedded"]
)
def test_up_status_down(workdir: Path, backend: str) -> None:
    port = free_port()
    (workdir / "task.json").write_text(json.dumps({"committee_size": 2, "quorum": 2}))
    record = flchain_json(
        workdir, "up", "--backend", backend, "--port", str(port), "--params", "task.json"
    )
    assert record["backend"] == backend
    assert record["rpc_url"] == f"http://127.0.0.1:{port}"
    assert set(record["contracts"]) == {"FLProtocol", "FLToken"}
    assert record["accounts"][0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert len(record["accounts"]) == 40  # wallet.totalAccounts of ganache-config.json
    on_disk = json.loads((workdir / ".flchain" / "testnet.json").read_text())
    assert on_disk == record
    deployment = json.loads((workdir / "deployments" / f"{record['chain_id']}.json").read_text())
    assert deployment["contracts"] == record["contracts"]
    assert deployment["deployment_block"] == record["deployment_block"]
    assert deployment["task_params"]["committee_size"] == 2
    assert deployment["task_params"]["quorum"] == 2

    w3 = connect(record["rpc_url"])
    assert int(rpc(w3, "eth_chainId", []), 16) == record["chain_id"]
    for address in record["contracts"].values():
        assert len(rpc(w3, "eth_getCode", [address, "latest"])) > 2
    protocol = ProtocolClient(Transactor(w3), record["contracts"]["FLProtocol"], record["deployer"])
    assert (protocol.task_params.committee_size, protocol.task_params.quorum) == (2, 2)

    status = flchain_json(workdir, "status")
    assert status["alive"] is True
    assert status["block_number"] >= record["deployment_block"]
    assert "alive" in flchain(workdir, "status").stdout  # human form

    down = flchain_json(workdir, "down")
    assert down["stopped"] is True
    assert not pid_alive(record["pid"])
    after = flchain(workdir, "status", check=False)
    assert after.returncode == 1
    assert "no testnet" in after.stderr


def test_second_up_is_refused(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    port = free_port()
    first = flchain_json(workdir, "up", "--port", str(port), "--no-deploy")
    assert first["contracts"] == {}
    again = flchain(workdir, "up", "--port", str(free_port()), check=False)
    assert again.returncode == 1
    assert "already running" in again.stderr
    other = tmp_path_factory.mktemp("other")
    same_port = flchain(other, "up", "--port", str(port), check=False)
    assert same_port.returncode == 1
    assert f"port {port}" in same_port.stderr
    assert flchain_json(workdir, "status")["alive"] is True
    flchain(workdir, "down")


def _pay(record: dict[str, Any], amount: int) -> str:
    tx = Transactor(connect(record["rpc_url"]))
    payer, payee = (tx.add_account(a) for a in accounts_from_mnemonic(record["mnemonic"], 2))
    receipt = tx.transact(payer, payee, b"", value=amount, gas=21_000)
    return str(receipt["transactionHash"].to_0x_hex())


def _has_tx(record: dict[str, Any], tx_hash: str) -> bool:
    return rpc(connect(record["rpc_url"]), "eth_getTransactionReceipt", [tx_hash]) is not None


@pytest.mark.slow
def test_anvil_state_survives_down_up_and_a_crash(workdir: Path) -> None:
    port = str(free_port())
    first = flchain_json(workdir, "up", "--port", port, "--state", "chain-state")
    assert first["reused_deployment"] is False
    paid = _pay(first, 12345)
    flchain(workdir, "down")

    second = flchain_json(workdir, "up", "--port", port, "--state", "chain-state")
    assert second["reused_deployment"] is True
    assert second["contracts"] == first["contracts"]
    assert second["deployment_block"] == first["deployment_block"]
    assert _has_tx(second, paid)

    crashed_over = _pay(second, 777)
    time.sleep(3)  # the node dumps its state every 2 s
    os.killpg(second["pid"], signal.SIGKILL)
    while pid_alive(second["pid"]):
        time.sleep(0.05)
    third = flchain_json(workdir, "up", "--port", port, "--state", "chain-state")
    assert third["reused_deployment"] is True
    assert _has_tx(third, paid)
    assert _has_tx(third, crashed_over)
    flchain(workdir, "down")


def test_bad_options_are_clear_errors(workdir: Path) -> None:
    missing = flchain(workdir, "up", "--config", "nope.json", check=False)
    assert missing.returncode == 1
    assert "nope.json" in missing.stderr
    backend = flchain(workdir, "up", "--backend", "geth", "--port", str(free_port()), check=False)
    assert backend.returncode == 1
    assert "unknown backend 'geth'" in backend.stderr
    (workdir / "params.json").write_text(json.dumps({"committee_size": 3, "quorum": 9}))
    params = flchain(
        workdir, "up", "--port", str(free_port()), "--params", "params.json", check=False
    )
    assert params.returncode == 1
    assert "quorum" in params.stderr
    assert not (workdir / ".flchain" / "testnet.json").exists()
    embedded_state = flchain(workdir, "up", "--backend", "embedded", "--state", "s", check=False)
    assert "--state needs" in embedded_state.stderr


def test_falls_back_to_embedded_without_anvil(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flchain.chain import testnet
    from flchain.chain.node import NodeConfig
    from flchain.exceptions import TestnetError

    def missing(name: str) -> str:
        raise TestnetError(f"{name} not found")

    monkeypatch.setattr(testnet, "find_tool", missing)  # as on a machine without npm
    options = testnet.UpOptions(
        config=NodeConfig().with_port(free_port()),
        home=workdir / ".flchain",
        deployments=workdir / "deployments",
        deploy=False,
    )
    record = testnet.up(options)
    try:
        assert record["backend"] == "embedded"
        assert "anvil not found" in record["fallback"]
        assert testnet.status(workdir / ".flchain")["alive"] is True
    finally:
        assert testnet.down(workdir / ".flchain")["stopped"] is True


def test_a_stranger_with_the_recorded_pid_is_left_alone(workdir: Path) -> None:
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        home = workdir / ".flchain"
        home.mkdir()
        record = {"backend": "anvil", "pid": stranger.pid, "rpc_url": "http://127.0.0.1:9"}
        (home / "testnet.json").write_text(json.dumps(record))
        assert flchain_json(workdir, "status")["alive"] is False
        assert flchain_json(workdir, "down")["stopped"] is False
        assert stranger.poll() is None  # not signalled
        assert not (home / "testnet.json").exists()
    finally:
        stranger.kill()
        stranger.wait()
