"""Creating a task on a real node: pinned inputs, deployment, funding, and a party joining it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flchain.app.builtin import initial_model
from flchain.chain.accounts import account_from_mnemonic
from flchain.chain.node import NodeProcess
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import MemberStatus, Phase
from flchain.exceptions import ConfigError
from flchain.party.party import TestnetInfo, join_task
from flchain.party.roundlog import EventLog
from flchain.run.setup import (
    FUNDING_WEI,
    Phases,
    admin_transactor,
    create_task,
    fund_accounts,
    start_training,
)
from flchain.storage.codec import decode_weights
from flchain.storage.local import LocalStore
from flchain.task.accounts import client_account, miner_account, task_accounts
from flchain.task.spec import TaskSpec

pytestmark = pytest.mark.usefixtures("chain_snapshot")


def _info(anvil: NodeProcess) -> TestnetInfo:
    return TestnetInfo(anvil.rpc_url, anvil.chain_id, anvil.mnemonic, None, 0, anvil.accounts)


def test_task_inputs_are_on_chain_and_in_the_store(anvil: NodeProcess, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    spec = TaskSpec(clients=12, miners=2, rounds=2, seed=3)
    task = create_task(_info(anvil), store, spec, Phases(30, 20, 10))
    assert TaskSpec.from_json(store.get(task.params.spec_cid)) == spec
    weights, meta = decode_weights(store.get(task.params.initial_model_cid))
    expected = initial_model(spec.arch, spec.seed)
    assert sorted(weights) == sorted(expected)
    assert all((weights[k] == expected[k]).all() for k in expected)
    assert (meta.round, meta.architecture, meta.parent) == (0, spec.arch, None)
    assert (task.params.committee_size, task.params.quorum) == (2, 2)
    assert task.params.max_updates_per_round == 12
    assert task.params.submit_duration == 30

    transactor, _ = admin_transactor(_info(anvil))
    w3 = transactor.w3
    for index in (client_account(10), client_account(11)):  # accounts 20, 21: not node-funded
        address = account_from_mnemonic(anvil.mnemonic, index).address
        assert w3.eth.get_balance(address) == FUNDING_WEI

    log = EventLog(None, "client", 0)
    party = join_task(_info(anvil), task.protocol, client_account(0), store, log)
    assert party.spec == spec and party.task == task.protocol
    assert party.params.initial_model_cid == task.params.initial_model_cid
    party.protocol.register_client()
    miner = join_task(_info(anvil), task.protocol, miner_account(0), store, log)
    miner.protocol.register_miner()
    assert party.protocol.phase(0) == Phase.NOT_OPENED
    start_training(_info(anvil), task)
    assert party.protocol.phase(0) == Phase.SUBMIT


def test_any_number_of_parties_is_funded_and_the_twelfth_miner_joins(
    anvil: NodeProcess, tmp_path: Path
) -> None:
    """12 miners and 40 clients on a node that funded 20 accounts: the admin funds the rest."""
    store = LocalStore(tmp_path / "store")
    spec = TaskSpec(clients=40, miners=12, committee=3, rounds=1, seed=5)
    task = create_task(_info(anvil), store, spec, Phases(30, 20, 10))
    transactor, admin = admin_transactor(_info(anvil))
    indices = task_accounts(spec.clients, spec.miners)
    assert len(indices) == 1 + 12 + 40
    for index in indices:
        balance = transactor.balance(account_from_mnemonic(anvil.mnemonic, index).address)
        assert balance == FUNDING_WEI if index >= anvil.accounts else balance > FUNDING_WEI
    log = EventLog(None, "miner", 11)
    miner = join_task(_info(anvil), task.protocol, miner_account(11), store, log)
    miner.protocol.register_miner()
    client = join_task(_info(anvil), task.protocol, client_account(39), store, log)
    client.protocol.register_client()
    viewer = ProtocolClient(transactor, task.protocol, admin)
    assert viewer.miner_state(miner.protocol.account).status == MemberStatus.ACTIVE
    assert viewer.client_state(client.protocol.account).status == MemberStatus.ACTIVE


def test_funding_more_than_the_admin_holds_is_refused_before_sending(
    anvil: NodeProcess, tmp_path: Path
) -> None:
    transactor, admin = admin_transactor(_info(anvil))
    before = transactor.block_number()
    many = range(anvil.accounts, anvil.accounts + 2000)  # 20,000 ether; the admin has 10,000
    with pytest.raises(ConfigError, match="cannot fund 2000 accounts"):
        fund_accounts(transactor, admin, _info(anvil), many)
    assert transactor.block_number() == before


def test_joining_without_a_task_address_is_refused(anvil: NodeProcess, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no task address"):
        join_task(_info(anvil), None, 10, LocalStore(tmp_path), EventLog(None, "client", 0))
