"""connect, accounts, raw RPC: the boundary translates every failure into our errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from chain_helpers import Chain

from flchain.chain import DEFAULT_MNEMONIC, accounts_from_mnemonic, connect, rpc, rpc_batch
from flchain.chain.accounts import HD_PATH, account_from_key, account_from_mnemonic
from flchain.chain.node import NodeConfig, NodeProcess, free_port, start_on_free_port
from flchain.exceptions import ConfigError, NodeUnavailableError, RPCError


def test_mnemonic_accounts_match_the_nodes_own(anvil: NodeProcess) -> None:
    w3 = connect(anvil.rpc_url)
    ours = [a.address for a in accounts_from_mnemonic(anvil.mnemonic, 5)]
    assert [a.lower() for a in ours] == list(rpc(w3, "eth_accounts", []))[:5]
    assert ours[0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_connect_to_nothing_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NodeUnavailableError, match=url.replace(".", r"\.")):
        connect(url, timeout=2)
    with pytest.raises(NodeUnavailableError, match="not an HTTP"):
        connect("ws://127.0.0.1:1")


def test_rpc_errors_and_batches(chain: Chain) -> None:
    with pytest.raises(RPCError) as info:
        rpc(chain.w3, "eth_getBalance", ["not an address", "latest"])
    assert info.value.method == "eth_getBalance"
    results = rpc_batch(
        chain.w3,
        [("eth_blockNumber", []), ("eth_getBalance", ["nope", "latest"]), ("eth_chainId", [])],
    )
    assert int(results[0], 16) >= 1
    assert isinstance(results[1], RPCError)
    assert int(results[2], 16) == chain.transactor.chain_id


def test_bad_keys_and_counts_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        accounts_from_mnemonic("not a real mnemonic at all", 1)
    with pytest.raises(ConfigError):
        accounts_from_mnemonic("test test test test test test test test test test test junk", -1)
    with pytest.raises(ConfigError):
        account_from_key("0x1234")
    with pytest.raises(ConfigError, match="account index"):
        account_from_mnemonic(DEFAULT_MNEMONIC, 2**31)


def test_accounts_derive_on_the_standard_path_at_any_index() -> None:
    """The cached seed gives eth-account's keys for the words, far past a node's range."""
    from eth_account import Account

    for index in (0, 39, 1000, 1 << 24):
        expected = Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=HD_PATH.format(index=index))
        assert account_from_mnemonic(DEFAULT_MNEMONIC, index).address == expected.address


def test_a_node_that_dies_gives_node_unavailable(tmp_path: Path) -> None:
    node = start_on_free_port("embedded", NodeConfig(accounts=2), log_path=tmp_path / "n.log")
    w3 = connect(node.rpc_url)
    assert int(rpc(w3, "eth_blockNumber", []), 16) == 0
    node.stop()
    with pytest.raises(NodeUnavailableError, match=str(node.port)):
        rpc(w3, "eth_blockNumber", [])
    with pytest.raises(NodeUnavailableError):
        rpc_batch(w3, [("eth_blockNumber", []), ("eth_chainId", [])])
