"""Chain-layer fixtures: the Probe test contract, compiled with the pinned npm solc,
deployed once per backend (Anvil, embedded py-evm, Ganache), state reverted after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chain_helpers import PROBE_SOURCE, Chain, compile_contract, deploy_probe
from web3 import Web3

from flchain.chain import connect, connect_embedded, rpc
from flchain.chain.node import NodeConfig, NodeProcess, start_on_free_port


@pytest.fixture(scope="session")
def probe_artifact(repo_root: Path) -> tuple[list[dict[str, Any]], str]:
    return compile_contract(PROBE_SOURCE, "Probe", repo_root)


@pytest.fixture(scope="session")
def anvil_chain(anvil: NodeProcess, w3: Web3, probe_artifact: Any) -> Chain:
    return deploy_probe(w3, anvil.mnemonic, "anvil", probe_artifact)


@pytest.fixture(scope="session")
def embedded_chain(probe_artifact: Any) -> Chain:
    from flchain.chain.connection import DEFAULT_MNEMONIC

    return deploy_probe(connect_embedded(accounts=10), DEFAULT_MNEMONIC, "embedded", probe_artifact)


@pytest.fixture(scope="session")
def ganache_chain(tmp_path_factory: pytest.TempPathFactory, probe_artifact: Any) -> Iterator[Chain]:
    config = NodeConfig(accounts=10, hardfork="shanghai")
    log = tmp_path_factory.mktemp("ganache") / "node.log"
    node = start_on_free_port("ganache", config, log_path=log)
    yield deploy_probe(connect(node.rpc_url), node.mnemonic, "ganache", probe_artifact)
    node.stop()


@pytest.fixture(params=["anvil", "embedded", pytest.param("ganache", marks=pytest.mark.slow)])
def chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """Each chain-layer test runs on Anvil, embedded py-evm and Ganache, from a clean snapshot."""
    env: Chain = request.getfixturevalue(f"{request.param}_chain")
    snapshot = rpc(env.w3, "evm_snapshot", [])
    yield env
    rpc(env.w3, "evm_revert", [snapshot])
    env.transactor.resync_nonces()
