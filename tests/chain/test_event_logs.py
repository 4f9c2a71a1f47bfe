"""iter_logs: paged, ordered, decoded event logs, on Anvil and py-evm."""

from __future__ import annotations

import pytest
from chain_helpers import Chain, calldata

from flchain.chain import TxRequest, iter_logs
from flchain.exceptions import ConfigError


def _store(chain: Chain, n: int) -> dict[int, int]:
    """Store keys 0..n-1 from three accounts in one batch; returns key -> block number.

    Across senders the node may mine a batch in any order, so tests use the receipts.
    """
    txs = [TxRequest(chain.accounts[1 + i % 3], chain.probe, _store_data(i)) for i in range(n)]
    receipts = chain.transactor.transact_many(txs)
    return {i: int(r["blockNumber"]) for i, r in enumerate(receipts)}


def _store_data(i: int) -> bytes:
    return calldata("store(uint256,uint256,string)", i, i * 10, f"note {i}")


def test_events_come_decoded_in_chain_order_across_pages(chain: Chain) -> None:
    start = chain.transactor.block_number()
    block_of = _store(chain, 7)
    events = list(iter_logs(chain.w3, chain.probe, chain.abi, ["Stored"], start + 1, page=2))
    assert sorted(e.args["key"] for e in events) == list(range(7))
    for e in events:
        key = e.args["key"]
        assert e.block_number == block_of[key]
        assert e.args["value"] == key * 10
        assert e.args["note"] == f"note {key}"
        assert e.args["who"] == chain.accounts[1 + key % 3]
        assert e.name == "Stored"
        assert e.address == chain.probe
    order = [(e.block_number, e.log_index) for e in events]
    assert order == sorted(order)
    assert len(set(order)) == 7


def test_event_filter_and_block_range(chain: Chain) -> None:
    start = chain.transactor.block_number()
    block_of = _store(chain, 4)
    transfer = chain.transactor.transact(
        chain.accounts[0], chain.probe, calldata("transfer(address,uint256)", chain.accounts[2], 5)
    )
    everything = list(iter_logs(chain.w3, chain.probe, chain.abi, None, start + 1))
    assert [e.name for e in everything] == ["Stored"] * 4 + ["Transfer"]
    assert everything[-1].args == {"from": chain.accounts[0], "to": chain.accounts[2], "value": 5}
    assert everything[-1].tx_hash == transfer["transactionHash"].to_0x_hex()
    low, high = sorted(set(block_of.values()))[0], sorted(set(block_of.values()))[-1]
    for first, last in ((low, low), (low + 1, high), (high, high + 1)):
        ranged = iter_logs(chain.w3, chain.probe, chain.abi, ["Stored"], first, to_block=last)
        expected = sorted(k for k, b in block_of.items() if first <= b <= last)
        assert sorted(e.args["key"] for e in ranged) == expected
    after = list(iter_logs(chain.w3, chain.probe, chain.abi, ["Transfer"], high + 1))
    assert after == [e for e in everything if e.name == "Transfer"]


def test_bad_queries_are_config_errors(chain: Chain) -> None:
    with pytest.raises(ConfigError, match="NoSuchEvent"):
        next(iter_logs(chain.w3, chain.probe, chain.abi, ["NoSuchEvent"], 0))
    with pytest.raises(ConfigError, match="page"):
        next(iter_logs(chain.w3, chain.probe, chain.abi, None, 0, page=0))
    with pytest.raises(ConfigError, match="address"):
        next(iter_logs(chain.w3, "0x1234", chain.abi, None, 0))
