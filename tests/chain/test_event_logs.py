"""iter_logs: paged, ordered, decoded event logs, on Anvil and py-evm."""

from __future__ import annotations

import pytest
from chain_helpers import Chain, calldata
from eth_abi.abi import encode
from web3 import Web3

from flchain.chain import TxRequest, iter_logs
from flchain.chain.events import EventDecoder
from flchain.exceptions import ChainError, ConfigError

to_checksum = Web3.to_checksum_address


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


def test_malformed_logs_are_chain_errors_naming_the_event() -> None:
    event = {
        "type": "event",
        "name": "Stored",
        "inputs": [
            {"name": "key", "type": "uint256", "indexed": True},
            {"name": "note", "type": "string", "indexed": True},
            {"name": "who", "type": "address[]", "indexed": False},
        ],
    }
    decoder = EventDecoder(event)
    who = "0x" + "ab" * 20
    good = {
        "topics": ["0x00", "0x" + "00" * 31 + "07", "0x" + "11" * 32],
        "data": "0x" + encode(["address[]"], [[who]]).hex(),
        "blockNumber": "0x5",
        "transactionHash": "0x" + "CD" * 32,
        "logIndex": "0x1",
        "address": "0x" + "ef" * 20,
    }
    decoded = decoder.decode(good)
    # an indexed string is its topic (a hash), arrays are lists, addresses checksummed
    assert decoded.args == {"key": 7, "note": bytes.fromhex("11" * 32), "who": [to_checksum(who)]}
    assert decoded.tx_hash == "0x" + "cd" * 32 and decoded.block_number == 5
    for bad in (
        {**good, "topics": good["topics"][:2]},  # a missing indexed topic
        {**good, "data": "0x1234"},  # truncated data
        {**good, "data": "0xzz"},  # not hex
        {k: v for k, v in good.items() if k != "logIndex"},
    ):
        with pytest.raises(ChainError, match="cannot decode Stored log"):
            decoder.decode(bad)
