"""Audit fixtures: one Anvil node and real synthetic task histories, built once per worker.

The histories are real: contracts deployed on Anvil, models trained, encoded
and stored in a LocalStore, committee votes committed and revealed, rounds
finalized and aggregates certified (see :mod:`flchain.simulation.synthetic`).
Tests that alter a store work on their own copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_helpers import ATTACKERS, SILENT_MINER, BuiltTask

from flchain.chain.node import NodeConfig, NodeProcess, free_port, start_node
from flchain.simulation.synthetic import SyntheticTask, build_history
from flchain.storage import LocalStore


@pytest.fixture(scope="session")
def audit_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """An Anvil node with enough funded accounts for 9 miners and 8 clients."""
    config = NodeConfig(accounts=30, hardfork="shanghai").with_port(free_port())
    node = start_node("anvil", config, log_path=tmp_path_factory.mktemp("anvil") / "node.log")
    yield node
    node.stop()


def _build(node: NodeProcess, root: Path, task: SyntheticTask) -> BuiltTask:
    store_dir = root / "store"
    run = build_history(node.rpc_url, node.mnemonic, LocalStore(store_dir), task)
    return BuiltTask(node, store_dir, run)


@pytest.fixture(scope="session")
def clean_task(audit_node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> BuiltTask:
    """6 clients (a sign-flipper and a free-rider among them), 3 miners (one never reveals),
    3 rounds, honestly certified."""
    task = SyntheticTask(
        clients=6,
        miners=3,
        rounds=3,
        attackers=ATTACKERS,
        silent_miners=frozenset({SILENT_MINER}),
        seed=1,
    )
    return _build(audit_node, tmp_path_factory.mktemp("clean"), task)


@pytest.fixture(scope="session")
def forged_task(audit_node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> BuiltTask:
    """4 honest clients, 3 miners, 3 rounds; round 1's committee certifies a forged CID."""
    task = SyntheticTask(clients=4, miners=3, rounds=3, forged_rounds=frozenset({1}), seed=2)
    return _build(audit_node, tmp_path_factory.mktemp("forged"), task)
