"""The embedded py-evm node as a separate process: JSON-RPC over HTTP, bad input answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from flchain.chain import DEFAULT_MNEMONIC, Transactor, accounts_from_mnemonic, connect
from flchain.chain.node import NodeConfig, NodeProcess, start_on_free_port


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    log = tmp_path_factory.mktemp("embedded") / "node.log"
    process = start_on_free_port("embedded", NodeConfig(accounts=3), log_path=log)
    yield process
    process.stop()


def test_two_clients_share_one_chain(node: NodeProcess) -> None:
    first, second = Transactor(connect(node.rpc_url)), Transactor(connect(node.rpc_url))
    payer, payee = (first.add_account(a) for a in accounts_from_mnemonic(DEFAULT_MNEMONIC, 2))
    before = second.balance(payee)
    receipt = first.transact(payer, payee, b"", value=123, gas=21_000)
    assert receipt["status"] == 1
    assert second.balance(payee) == before + 123
    assert second.block_number() == receipt["blockNumber"]


def test_bad_requests_get_json_rpc_errors(node: NodeProcess) -> None:
    url = node.rpc_url
    garbage = requests.post(url, data=b"{not json", timeout=10).json()
    assert garbage["error"]["code"] == -32700
    empty_batch = requests.post(url, json=[], timeout=10).json()
    assert empty_batch["error"]["code"] == -32600
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2},
        {"jsonrpc": "2.0", "id": 3, "method": "no_suchMethod", "params": []},
    ]
    answers = {a["id"]: a for a in requests.post(url, json=batch, timeout=10).json()}
    assert int(answers[1]["result"], 16) == node.chain_id
    assert answers[2]["error"]["code"] == -32600
    assert "error" in answers[3]
    assert requests.post(url, json=batch[0], timeout=10).json()["id"] == 1  # still serving
