"""Sending transactions from local accounts: sign here, send raw, count nonces, decode reverts.

:class:`Transactor` is the one way FLchain writes to a chain. It holds local
accounts (their keys never leave the process), signs EIP-1559 transactions
itself (:mod:`flchain.chain.signing`), sends them raw, and turns every failure
into our exceptions: a custom-error revert becomes :class:`ContractRevertError`
with the error's name and arguments. It is safe to use from many threads at once.

For throughput, :meth:`Transactor.send_many` signs many transactions and sends them
back to back or in batches; :meth:`Transactor.wait_many` batches their receipts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3

# Private on purpose: web3 8 has no public formatter for a raw (batched) receipt;
# w3.eth.get_transaction_receipt formats one receipt per request only.
from web3._utils.method_formatters import receipt_formatter
from web3.datastructures import AttributeDict
from web3.types import TxReceipt

from flchain.chain.connection import rpc, rpc_batch
from flchain.chain.nonces import NonceManager
from flchain.chain.reverts import ErrorRegistry, explain_failure, revert_data
from flchain.chain.signing import DynamicFeeTx, Signer
from flchain.chain.txdata import (
    BATCH_SIZE,
    SentLog,
    address_bytes,
    hexdata,
    retryable,
    send_batches,
    then_wait,
)
from flchain.exceptions import ChainError, ConfigError, RPCError, TransactionFailedError
from flchain.types import Address, TxHash

PRIORITY_FEE = 10**9  # 1 gwei tip
MAX_UNMINED = 100_000  # raw transactions kept for re-sending until their receipt
GAS_MARGIN = 1.2  # estimates are exact; leave room for state changing before inclusion
BATCH = 500  # JSON-RPC requests per batched round trip


@dataclass(frozen=True)
class TxRequest:
    """One transaction to send with :meth:`Transactor.send_many`."""

    sender: Address
    to: Address | None
    data: bytes | str = b""
    value: int = 0
    gas: int | None = None


class Transactor:
    """Local accounts, nonces, fees and revert decoding for one node connection."""

    def __init__(
        self,
        w3: Web3,
        *,
        fee_refresh_s: float = 5.0,
        poll_interval: float = 0.01,
        nudge_after: float | None = 2.0,
    ) -> None:
        self.w3 = w3
        self.chain_id: int = int(rpc(w3, "eth_chainId", []), 16)
        self._accounts: dict[Address, LocalAccount] = {}
        self._signers: dict[Address, Signer] = {}
        self._nonces = NonceManager(self._pending_nonce)
        self._errors = ErrorRegistry()
        self._fee_refresh_s = fee_refresh_s
        self._poll_interval = poll_interval
        self._nudge_after = nudge_after
        self._sent = SentLog(MAX_UNMINED)
        self.stalls = 0  # times wait had to unstick a development node
        self._fee_lock = threading.Lock()
        self._fees: tuple[float, dict[str, int]] = (0.0, {})

    # --- accounts and ABIs ------------------------------------------------

    def add_account(self, account: LocalAccount) -> Address:
        """Hold ``account``'s key for signing; returns its checksummed address."""
        address = Address(Web3.to_checksum_address(account.address))
        self._accounts[address] = account
        self._signers[address] = Signer(bytes(account.key))
        return address

    @property
    def addresses(self) -> list[Address]:
        """The accounts this transactor signs for, in the order they were added."""
        return list(self._accounts)

    def register_errors(self, abi: Sequence[dict[str, Any]]) -> None:
        """Decode reverts of this ABI's custom errors (and name its functions in errors)."""
        self._errors.register(abi)

    # --- sending ----------------------------------------------------------

    def send(
        self,
        sender: Address,
        to: Address | None,
        data: bytes | str,
        *,
        value: int = 0,
        gas: int | None = None,
    ) -> TxHash:
        """Sign and send one transaction; ``gas=None`` estimates it (a revert raises here)."""
        return self.send_many([TxRequest(sender, to, data, value, gas)])[0]

    def send_many(self, txs: Sequence[TxRequest], *, ordered: bool = True) -> list[TxHash]:
        """Sign and send ``txs``; returns their hashes, in order.

        Each sender's transactions get consecutive nonces in list order, so they are
        mined in that order. With ``ordered`` (the default) requests go one by one and
        the chain sees the list's order across senders too; ``ordered=False`` sends
        JSON-RPC batches holding at most one transaction per sender (fastest).
        """
        if not txs:
            return []
        txs = [self._checked(tx) for tx in txs]
        gases = self._gas_limits(txs)
        results = self._sign_and_send(txs, gases, ordered)
        failed = [i for i, r in enumerate(results) if isinstance(r, RPCError)]
        if failed and all(retryable(results[i]) for i in failed):
            # another process used the account, or the base fee rose: refetch, retry once
            with self._fee_lock:
                self._fees = (0.0, {})
            retry = [txs[i] for i in failed]
            again = self._sign_and_send(retry, [gases[i] for i in failed], ordered)
            for i, result in zip(failed, again, strict=True):
                results[i] = result
            failed = [i for i in failed if isinstance(results[i], RPCError)]
        if failed:
            raise self._send_error(results[failed[0]], txs[failed[0]], len(failed))
        return [TxHash(str(r)) for r in results]

    def _sign_and_send(
        self, txs: Sequence[TxRequest], gases: Sequence[int], ordered: bool
    ) -> list[Any]:
        """Raw-send ``txs`` under their senders' nonce locks: hashes, or RPCErrors."""
        fees = self._fee_fields()
        raws: list[str] = []
        with self._nonces.hold(tx.sender for tx in txs) as nonces:
            for tx, gas in zip(txs, gases, strict=True):
                raws.append(self._sign(tx, gas, nonces.take(tx.sender), fees))
            results: list[Any] = [None] * len(txs)
            for batch in send_batches([tx.sender for tx in txs], ordered):
                try:
                    sent = self._batch([("eth_sendRawTransaction", [raws[i]]) for i in batch])
                except ChainError:
                    for tx in txs:
                        nonces.forget(tx.sender)
                    raise
                for i, result in zip(batch, sent, strict=True):
                    results[i] = result
            self._sent.remember([(r, raws[i]) for i, r in enumerate(results) if isinstance(r, str)])
            for tx, result in zip(txs, results, strict=True):
                if isinstance(result, RPCError):
                    nonces.forget(tx.sender)
        return results

    def wait(self, tx_hash: TxHash, timeout: float = 60.0) -> TxReceipt:
        """The receipt of ``tx_hash`` once mined; a failed transaction raises."""
        return self.wait_many([tx_hash], timeout)[0]

    def wait_many(self, tx_hashes: Sequence[TxHash], timeout: float = 60.0) -> list[TxReceipt]:
        """Receipts of ``tx_hashes`` (in order) once all are mined; the first failure raises."""
        receipts: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        progress_at = time.monotonic()
        while True:
            found = len(receipts)
            missing = [h for h in tx_hashes if h not in receipts]
            for start in range(0, len(missing), BATCH_SIZE):
                chunk = missing[start : start + BATCH_SIZE]
                calls = [("eth_getTransactionReceipt", [h]) for h in chunk]
                for h, raw in zip(chunk, self._batch(calls), strict=True):
                    if isinstance(raw, RPCError):
                        raise TransactionFailedError(f"cannot get the receipt of {h}: {raw}")
                    if raw is not None:
                        receipts[h] = raw
                        self._sent.forget(h)
            if len(receipts) == len(set(tx_hashes)):
                break
            now = time.monotonic()
            if len(receipts) > found:
                progress_at = now
            elif self._nudge_after is not None and now - progress_at > self._nudge_after:
                self._unstick([h for h in tx_hashes if h not in receipts])
                progress_at = now
            if now > deadline:
                raise TransactionFailedError(
                    f"{len(set(tx_hashes)) - len(receipts)} transaction(s) not mined within "
                    f"{timeout:g} s, first {missing[0]}"
                )
            time.sleep(self._poll_interval)
        out = [_format_receipt(receipts[h]) for h in tx_hashes]
        for receipt in out:
            if receipt["status"] != 1:
                raise explain_failure(self.w3, self._errors, receipt)
        return out

    transact = then_wait(send)

    def transact_many(
        self, txs: Sequence[TxRequest], timeout: float = 60.0, *, ordered: bool = True
    ) -> list[TxReceipt]:
        """Send ``txs`` in batches (see :meth:`send_many`), then wait for all receipts."""
        return self.wait_many(self.send_many(txs, ordered=ordered), timeout)

    # --- reading ----------------------------------------------------------

    def call(
        self,
        to: Address,
        data: bytes | str,
        *,
        sender: Address | None = None,
        block: int | str = "latest",
    ) -> bytes:
        """``eth_call``: the return data of calling ``to``; a revert raises, decoded."""
        payload = hexdata(data)
        request: dict[str, Any] = {"to": to, "data": payload}
        if sender is not None:
            request["from"] = sender
        block_id = hex(block) if isinstance(block, int) else block
        try:
            result = rpc(self.w3, "eth_call", [request, block_id])
        except RPCError as exc:
            raise self._call_error(exc, HexBytes(payload)) from exc
        return bytes(HexBytes(result))

    def call_many(self, calls: Sequence[tuple[Address, bytes]]) -> list[bytes]:
        """Many ``eth_call``s at the latest block, in batched round trips; the return data in
        order. The first that fails raises, decoded, as :meth:`call` does."""
        requests_ = [("eth_call", [{"to": to, "data": hexdata(d)}, "latest"]) for to, d in calls]
        replies = self._batch(requests_)
        for (_, data), reply in zip(calls, replies, strict=True):
            if isinstance(reply, RPCError):
                raise self._call_error(reply, HexBytes(data)) from reply
        return [bytes(HexBytes(reply)) for reply in replies]

    def estimate_gas(
        self, sender: Address, to: Address | None, data: bytes | str, *, value: int = 0
    ) -> int:
        """``eth_estimateGas`` (without margin); a revert raises, decoded."""
        return self._gas_limits([TxRequest(sender, to, data, value)], margin=1.0)[0]

    def block_number(self) -> int:
        """The number of the latest block."""
        return int(rpc(self.w3, "eth_blockNumber", []), 16)

    def balance(self, address: Address) -> int:
        """The ether balance of ``address``, in wei."""
        return int(rpc(self.w3, "eth_getBalance", [address, "latest"]), 16)

    def resync_nonces(self) -> None:
        """Refetch every account's nonce (after ``evm_revert`` or a failed send)."""
        self._nonces.resync()

    # --- internals --------------------------------------------------------

    def _checked(self, tx: TxRequest) -> TxRequest:
        sender = tx.sender
        if sender not in self._accounts and Web3.is_address(sender):
            sender = Address(Web3.to_checksum_address(sender))
        if sender not in self._accounts:
            raise ConfigError(f"no local key for sender {tx.sender}; add_account() it first")
        if tx.value < 0:
            raise ConfigError(f"negative value {tx.value}")
        return TxRequest(sender, tx.to, HexBytes(hexdata(tx.data)), tx.value, tx.gas)

    def _gas_limits(self, txs: Sequence[TxRequest], margin: float = GAS_MARGIN) -> list[int]:
        todo = [i for i, tx in enumerate(txs) if tx.gas is None]
        calls = [("eth_estimateGas", [_call_object(txs[i])]) for i in todo]
        estimates = self._batch(calls)
        gases = [tx.gas or 0 for tx in txs]
        for i, estimate in zip(todo, estimates, strict=True):
            if isinstance(estimate, RPCError):
                raise self._call_error(estimate, HexBytes(txs[i].data))
            gases[i] = int(int(estimate, 16) * margin)
        return gases

    def _fee_fields(self) -> dict[str, int]:
        with self._fee_lock:
            fetched_at, fees = self._fees
            if time.monotonic() - fetched_at < self._fee_refresh_s and fees:
                return fees
            block = rpc(self.w3, "eth_getBlockByNumber", ["latest", False])
            base = block.get("baseFeePerGas") if block else None
            if base is None:
                fees = {"gasPrice": int(rpc(self.w3, "eth_gasPrice", []), 16)}
            else:
                fees = {
                    "maxFeePerGas": 2 * int(base, 16) + PRIORITY_FEE,
                    "maxPriorityFeePerGas": PRIORITY_FEE,
                }
            self._fees = (time.monotonic(), fees)
            return fees

    def _sign(self, tx: TxRequest, gas: int, nonce: int, fees: dict[str, int]) -> str:
        if "maxFeePerGas" in fees:
            to = address_bytes(tx.to) if tx.to is not None else b""
            fields = DynamicFeeTx(
                self.chain_id,
                nonce,
                fees["maxPriorityFeePerGas"],
                fees["maxFeePerGas"],
                gas,
                to,
                tx.value,
                bytes(HexBytes(tx.data)),
            )
            return "0x" + self._signers[tx.sender].sign(fields).hex()
        return self._sign_legacy(tx, gas, nonce, fees)

    def _sign_legacy(self, tx: TxRequest, gas: int, nonce: int, fees: dict[str, int]) -> str:
        fields: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": nonce,
            "gas": gas,
            "value": tx.value,
            "data": bytes(HexBytes(tx.data)),
            **fees,
        }
        if tx.to is not None:
            fields["to"] = Web3.to_checksum_address(tx.to)
        signed = self._accounts[tx.sender].sign_transaction(fields)
        return "0x" + bytes(signed.raw_transaction).hex()

    def _batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        if len(calls) == 1:
            try:
                return [rpc(self.w3, calls[0][0], calls[0][1])]
            except RPCError as exc:
                return [exc]
        chunks = (calls[i : i + BATCH] for i in range(0, len(calls), BATCH))
        return [reply for chunk in chunks for reply in rpc_batch(self.w3, chunk)]

    def _unstick(self, missing: Sequence[TxHash]) -> None:
        """Get stalled transactions mined on a development node.

        Anvil's automine can leave ready transactions unmined when they arrive faster
        than it mines (foundry-rs/foundry#10122), and lose some when a block is mined
        meanwhile. ``evm_mine`` flushes the pool; transactions the node no longer
        knows are sent again (same bytes, so never twice). On a node without
        ``evm_mine`` this turns off.
        """
        try:
            rpc(self.w3, "evm_mine", [])
        except RPCError:
            self._nudge_after = None
            return
        self.stalls += 1
        ours = self._sent.raws(missing)
        known = self._batch([("eth_getTransactionByHash", [h]) for h in ours])
        lost = [h for h, tx in zip(ours, known, strict=True) if tx is None]
        if lost:
            self._batch([("eth_sendRawTransaction", [ours[h]]) for h in lost])

    def _pending_nonce(self, sender: Address) -> int:
        return int(rpc(self.w3, "eth_getTransactionCount", [sender, "pending"]), 16)

    def _send_error(self, error: RPCError, tx: TxRequest, count: int) -> ChainError:
        function = self._errors.function_name(HexBytes(tx.data))
        where = f" calling {function}" if function else ""
        more = f" ({count - 1} more refused)" if count > 1 else ""
        if revert_data(error) is not None and error.data:
            return self._call_error(error, HexBytes(tx.data))
        return TransactionFailedError(
            f"node refused a transaction from {tx.sender}{where}: {error}{more}"
        )

    def _call_error(self, error: RPCError, calldata: bytes) -> ChainError:
        data = revert_data(error)
        if data is None:
            return TransactionFailedError(str(error))
        return self._errors.decode(data, self._errors.function_name(calldata))


def _call_object(tx: TxRequest) -> dict[str, Any]:
    request: dict[str, Any] = {"from": tx.sender, "data": hexdata(tx.data), "value": hex(tx.value)}
    if tx.to is not None:
        request["to"] = tx.to
    return request


def _format_receipt(raw: dict[str, Any]) -> TxReceipt:
    return cast(TxReceipt, AttributeDict.recursive(receipt_formatter(raw)))
