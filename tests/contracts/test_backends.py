"""The same artifacts deploy and run a full round on py-evm (embedded) and Ganache 7.9.2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from protocol_helpers import PARAMS, Protocol

from flchain.chain import Transactor, accounts_from_mnemonic, connect, connect_embedded
from flchain.chain.connection import DEFAULT_MNEMONIC
from flchain.chain.deploy import deploy_protocol
from flchain.chain.node import NodeConfig, find_tool, free_port, start_node


def full_round(w3: object, mnemonic: str) -> tuple[int, ...]:
    tx = Transactor(w3)  # type: ignore[arg-type]
    for account in accounts_from_mnemonic(mnemonic, 16):
        tx.add_account(account)
    p = Protocol(deploy_protocol(tx, tx.addresses[0], PARAMS), tx, w3)  # type: ignore[arg-type]
    p.register(clients=3, miners=3)
    p.admin.start_training()
    p.run_round(0, lambda n: [9_000, 1_000, 6_000][:n])
    outcome = p.admin.round_outcome(0)
    assert outcome is not None
    assert p.admin.current_round() == 1
    return outcome.accepted


def test_full_round_on_embedded_py_evm() -> None:
    assert full_round(connect_embedded(accounts=16), DEFAULT_MNEMONIC) == (0, 2)


def test_full_round_on_ganache(tmp_path: Path) -> None:
    try:
        find_tool("ganache")
    except Exception:
        pytest.skip("ganache is not installed (npm ci)")
    if shutil.which("node") is None:
        pytest.skip("needs node")
    config = NodeConfig(accounts=16).with_port(free_port())
    node = start_node("ganache", config, log_path=tmp_path / "ganache.log")
    try:
        assert full_round(connect(node.rpc_url), node.mnemonic) == (0, 2)
    finally:
        node.stop()
