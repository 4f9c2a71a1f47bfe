"""Shared pytest configuration. Fixtures for each subsystem live beside its tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from web3 import Web3

    from flchain.chain import Transactor
    from flchain.chain.node import NodeProcess

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's top directory (where package.json and node_modules live)."""
    return REPO_ROOT


# --- chain fixtures: one Anvil node per xdist worker --------------------------------

CHAIN_ACCOUNTS = 20


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """An Anvil node on a free 127.0.0.1 port, shared by one worker's tests.

    Has ``.rpc_url``, ``.mnemonic``, ``.chain_id``, ``.port``. Tests that change
    chain state should use ``chain_snapshot`` so they do not see each other.
    """
    from flchain.chain.node import NodeConfig, start_on_free_port

    config = NodeConfig(accounts=CHAIN_ACCOUNTS, hardfork="shanghai")
    log = tmp_path_factory.mktemp("anvil") / "node.log"
    node = start_on_free_port("anvil", config, log_path=log)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def w3(anvil: NodeProcess) -> Web3:
    """A web3 connection to the worker's Anvil node."""
    from flchain.chain import connect

    return connect(anvil.rpc_url)


@pytest.fixture(scope="session")
def transactor(w3: Web3, anvil: NodeProcess) -> Transactor:
    """A Transactor holding the node's first 20 mnemonic accounts."""
    from flchain.chain import Transactor, accounts_from_mnemonic

    tx = Transactor(w3)
    for account in accounts_from_mnemonic(anvil.mnemonic, CHAIN_ACCOUNTS):
        tx.add_account(account)
    return tx


@pytest.fixture
def chain_snapshot(w3: Web3, transactor: Transactor) -> Iterator[None]:
    """Take an ``evm_snapshot`` before the test; ``evm_revert`` to it afterwards."""
    from flchain.chain import rpc

    snapshot = rpc(w3, "evm_snapshot", [])
    yield
    rpc(w3, "evm_revert", [snapshot])
    transactor.resync_nonces()
