"""Transactor: local signing, managed nonces, receipts, reverts decoded, on Anvil and py-evm."""

from __future__ import annotations

import threading

import pytest
from chain_helpers import Chain, calldata
from eth_abi import decode

from flchain.chain import DEFAULT_MNEMONIC, Transactor, TxRequest, accounts_from_mnemonic, rpc
from flchain.chain.txdata import BATCH_SIZE, send_batches
from flchain.exceptions import ConfigError, ContractRevertError, TransactionFailedError
from flchain.types import Address


def _value(chain: Chain, key: int) -> int:
    out = chain.transactor.call(chain.probe, calldata("values(uint256)", key))
    return int(decode(["uint256"], out)[0])


def _balance(chain: Chain, who: Address) -> int:
    out = chain.transactor.call(chain.probe, calldata("balanceOf(address)", who))
    return int(decode(["uint256"], out)[0])


def test_transact_mines_and_changes_state(chain: Chain) -> None:
    me = chain.accounts[1]
    receipt = chain.transactor.transact(
        me, chain.probe, calldata("store(uint256,uint256,string)", 7, 99, "hi")
    )
    assert receipt["status"] == 1
    assert receipt["from"] == me
    assert receipt["to"] == chain.probe
    assert len(receipt["logs"]) == 1
    assert _value(chain, 7) == 99


def test_estimate_revert_raises_custom_error_with_arguments(chain: Chain) -> None:
    data = calldata("store(uint256,uint256,string)", 1, 5000, "too much")
    with pytest.raises(ContractRevertError) as info:
        chain.transactor.send(chain.accounts[1], chain.probe, data)
    assert info.value.name == "TooLarge"
    assert info.value.error_args == (5000, 1000)
    assert info.value.function == "store"
    assert "TooLarge(5000, 1000)" in str(info.value)


def test_call_revert_decodes_address_argument(chain: Chain) -> None:
    stranger = chain.accounts[2]
    with pytest.raises(ContractRevertError) as info:
        chain.transactor.call(chain.probe, calldata("ownerOnly()"), sender=stranger)
    assert (info.value.name, info.value.error_args) == ("NotOwner", (stranger,))
    out = chain.transactor.call(chain.probe, calldata("ownerOnly()"), sender=chain.accounts[0])
    assert decode(["uint256"], out)[0] == 42


def test_string_revert_and_panic_are_decoded(chain: Chain) -> None:
    with pytest.raises(ContractRevertError) as info:
        chain.transactor.call(chain.probe, calldata("fail(string)", "no way"))
    assert (info.value.name, info.value.error_args) == ("Error", ("no way",))
    with pytest.raises(ContractRevertError) as info:
        chain.transactor.call(chain.probe, calldata("divide(uint256,uint256)", 1, 0))
    assert (info.value.name, info.value.error_args) == ("Panic", (0x12,))


def test_mined_failure_is_replayed_to_find_the_error(chain: Chain) -> None:
    data = calldata("store(uint256,uint256,string)", 3, 2000, "")
    tx_hash = chain.transactor.send(chain.accounts[3], chain.probe, data, gas=200_000)
    with pytest.raises(ContractRevertError) as info:
        chain.transactor.wait(tx_hash)
    assert (info.value.name, info.value.error_args, info.value.function) == (
        "TooLarge",
        (2000, 1000),
        "store",
    )
    # the account's next transaction goes through: the failed one used its nonce
    ok = chain.transactor.transact(
        chain.accounts[3], chain.probe, calldata("store(uint256,uint256,string)", 3, 1, "")
    )
    assert ok["status"] == 1


def test_unregistered_error_is_a_plain_failure_naming_the_selector(chain: Chain) -> None:
    bare = Transactor(chain.w3)
    with pytest.raises(TransactionFailedError) as info:
        bare.call(chain.probe, calldata("store(uint256,uint256,string)", 1, 5000, ""))
    assert not isinstance(info.value, ContractRevertError)
    assert "unknown error 0x" in str(info.value)


def test_refused_send_releases_the_nonce(chain: Chain) -> None:
    me = chain.accounts[4]
    balance = chain.transactor.balance(me)
    assert balance == chain.w3.eth.get_balance(me) > 0
    with pytest.raises(TransactionFailedError):
        chain.transactor.send(me, chain.accounts[5], b"", value=balance * 2, gas=21_000)
    receipt = chain.transactor.transact(me, chain.accounts[5], b"", value=1, gas=21_000)
    assert receipt["status"] == 1


def test_unknown_sender_and_bad_data_are_config_errors(chain: Chain) -> None:
    with pytest.raises(ConfigError, match="no local key"):
        chain.transactor.send(Address("0x" + "12" * 20), chain.probe, b"")
    with pytest.raises(ConfigError, match="not bytes or hex"):
        chain.transactor.send(chain.accounts[1], chain.probe, "not hex")


def test_threads_share_accounts_without_nonce_clashes(chain: Chain) -> None:
    senders = chain.accounts[1:4]
    before = {a: chain.w3.eth.get_transaction_count(a) for a in senders}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(8):
                sender = senders[(worker + i) % len(senders)]
                data = calldata("store(uint256,uint256,string)", worker * 100 + i, i, "t")
                chain.transactor.transact(sender, chain.probe, data, gas=120_000)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sent = sum(chain.w3.eth.get_transaction_count(a) - before[a] for a in senders)
    assert sent == 32
    assert [_value(chain, w * 100 + 7) for w in range(4)] == [7, 7, 7, 7]


def test_transact_many_batches_token_transfers(chain: Chain) -> None:
    owner, receivers = chain.accounts[0], chain.accounts[1:6]
    start = {r: _balance(chain, r) for r in receivers}
    txs = [
        TxRequest(
            owner, chain.probe, calldata("transfer(address,uint256)", receivers[i % 5], i + 1)
        )
        for i in range(40)
    ]
    receipts = chain.transactor.transact_many(txs)
    assert [r["status"] for r in receipts] == [1] * 40
    assert len({r["transactionHash"] for r in receipts}) == 40
    for k, r in enumerate(receivers):
        assert _balance(chain, r) - start[r] == sum(i + 1 for i in range(40) if i % 5 == k)


def test_resync_after_revert_to_snapshot(chain: Chain) -> None:
    me = chain.accounts[6]
    snapshot = rpc(chain.w3, "evm_snapshot", [])
    chain.transactor.transact(me, chain.accounts[7], b"", value=1, gas=21_000)
    rpc(chain.w3, "evm_revert", [snapshot])
    chain.transactor.resync_nonces()
    receipt = chain.transactor.transact(me, chain.accounts[7], b"", value=1, gas=21_000)
    assert receipt["status"] == 1


def test_stale_nonce_from_another_sender_process_is_recovered(chain: Chain) -> None:
    me = chain.accounts[8]
    chain.transactor.transact(me, chain.accounts[9], b"", value=1, gas=21_000)  # nonce cached
    other = Transactor(chain.w3)  # stands for another process holding the same key
    other.add_account(accounts_from_mnemonic(DEFAULT_MNEMONIC, 9)[8])
    other.transact(me, chain.accounts[9], b"", value=1, gas=21_000)
    before = chain.w3.eth.get_transaction_count(me)
    receipt = chain.transactor.transact(me, chain.accounts[9], b"", value=1, gas=21_000)
    assert receipt["status"] == 1
    assert chain.w3.eth.get_transaction_count(me) == before + 1


def test_ordered_batches_keep_list_order_across_senders(chain: Chain) -> None:
    senders = chain.accounts[1:6]
    txs = [TxRequest(senders[i % 5], chain.probe, _store_data(i)) for i in range(15)] + [
        TxRequest(senders[0], chain.probe, _store_data(100 + i)) for i in range(5)
    ]
    receipts = chain.transactor.transact_many(txs)
    positions = [(int(r["blockNumber"]), int(r["transactionIndex"])) for r in receipts]
    assert positions == sorted(positions)
    assert len(set(positions)) == 20


def test_send_batches_never_hold_two_transactions_of_one_sender() -> None:
    a, b, c = Address("0xa"), Address("0xb"), Address("0xc")
    assert send_batches([a, a, b, a, c], ordered=True) == [[0], [1], [2], [3], [4]]
    assert send_batches([a, a, b, a, c], ordered=False) == [[0, 2, 4], [1], [3]]
    assert send_batches([], ordered=False) == []
    many = [Address(f"0x{i:040x}") for i in range(BATCH_SIZE + 1)]
    assert send_batches(many, ordered=False) == [list(range(BATCH_SIZE)), [BATCH_SIZE]]


def _store_data(i: int) -> bytes:
    return calldata("store(uint256,uint256,string)", i, i % 1000, "o")


def test_stalled_and_lost_transactions_are_mined(anvil_chain: Chain) -> None:
    """What Anvil's automine does under load (foundry#10122), provoked on purpose."""
    chain = anvil_chain
    tx = Transactor(chain.w3, nudge_after=0.2)
    me = tx.add_account(accounts_from_mnemonic(DEFAULT_MNEMONIC, 9)[8])
    snapshot = rpc(chain.w3, "evm_snapshot", [])
    rpc(chain.w3, "evm_setAutomine", [False])
    try:
        stalled = tx.send(me, chain.accounts[1], b"", value=1, gas=21_000)
        lost = tx.send(me, chain.accounts[1], b"", value=2, gas=21_000)
        rpc(chain.w3, "anvil_dropTransaction", [lost])
        assert rpc(chain.w3, "eth_getTransactionByHash", [lost]) is None
        receipts = tx.wait_many([stalled, lost], timeout=20)
        assert [r["status"] for r in receipts] == [1, 1]
        assert receipts[0]["blockNumber"] < receipts[1]["blockNumber"]
    finally:
        rpc(chain.w3, "evm_setAutomine", [True])
        rpc(chain.w3, "evm_revert", [snapshot])
        chain.transactor.resync_nonces()
