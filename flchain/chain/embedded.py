"""An in-process py-evm chain that speaks plain JSON-RPC (hex in, hex out).

web3's :class:`EthereumTesterProvider` only understands requests after web3's own
middleware has formatted them, answers with Python ints and bytes, and turns a
revert into an exception that loses the revert data. :class:`EmbeddedProvider`
wraps it so that it behaves like a real node: JSON-RPC values in standard hex
form, and a revert answered as ``{"code": 3, "data": "0x..."}`` as Anvil does.
The same object serves the embedded node's HTTP server (``embedded_node``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.spoof import SpoofTransaction
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import _execute_and_revert_transaction
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.exceptions import TransactionFailed, TransactionNotFound, ValidationError
from web3 import Web3
from web3.providers import BaseProvider
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse

_HD_PATH = "m/44'/60'/0'/0"  # the path Anvil and Ganache derive accounts on
_BLOOM_KEYS = frozenset({"logsBloom"})


class _Backend(PyEVMBackend):  # type: ignore[misc]
    """py-evm whose failing ``eth_call`` keeps the raw revert data (eth-tester's drops it),
    and which finds transactions through the chain's hash index (eth-tester scans blocks)."""

    def _find(self, tx_hash: bytes) -> tuple[Any, Any, int]:
        head = self.chain.get_block()  # the pending block
        for index, tx in enumerate(head.transactions):
            if tx.hash == tx_hash:
                return head, tx, index
        try:
            number, index = self.chain.chaindb.get_transaction_index(tx_hash)
        except EVMTransactionNotFound as exc:
            raise TransactionNotFound(f"no transaction 0x{bytes(tx_hash).hex()}") from exc
        block = self.chain.get_canonical_block_by_number(number)
        return block, block.transactions[index], index

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, tx, index = self._find(transaction_hash)
        pending = block.number == self.chain.get_block().number
        return serialize_transaction(block, tx, index, pending)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        block, tx, index = self._find(transaction_hash)
        pending = block.number == self.chain.get_block().number
        receipts = block.get_receipts(self.chain.chaindb)
        vm = self.chain.get_vm()
        return serialize_transaction_receipt(block, receipts, tx, index, pending, vm)

    def call(self, transaction: dict[str, Any], block_number: Any = "latest") -> bytes:
        request = dict(transaction)
        request.setdefault("gas", self._max_available_gas())
        unsigned = self._get_normalized_and_unsigned_evm_transaction(request, block_number)
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        computation = _execute_and_revert_transaction(self.chain, spoofed, block_number)
        if computation.is_error:
            raise TransactionFailed(computation._error)
        return bytes(computation.output)


class EmbeddedProvider(BaseProvider):
    """A py-evm chain behind a JSON-RPC ``make_request``, safe to call from threads."""

    def __init__(
        self, *, mnemonic: str, accounts: int, balance_wei: int, block_gas_limit: int
    ) -> None:
        super().__init__()
        backend = _Backend.from_mnemonic(
            mnemonic,
            num_accounts=accounts,
            hd_path=_HD_PATH,
            genesis_state_overrides={"balance": balance_wei},
            genesis_parameters=PyEVMBackend.generate_genesis_params(
                overrides={"gas_limit": block_gas_limit}
            ),
        )
        self._tester = EthereumTesterProvider(EthereumTester(backend))
        self._inner = Web3(self._tester, middleware=[])
        self._call = self._tester.request_func(self._inner, self._inner.middleware_onion)
        self._lock = threading.Lock()
        self._next_id = 0

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock:
            self._next_id += 1
            return self._handle(self._next_id, str(method), params)

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        return [self.make_request(method, params) for method, params in requests]

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True

    def _handle(self, request_id: int, method: str, params: Any) -> RPCResponse:
        try:
            response = self._call(RPCEndpoint(method), params)
        except TransactionFailed as exc:
            return _error(request_id, 3, "execution reverted", _revert_data(exc))
        except ValidationError as exc:
            return _error(request_id, -32602, f"invalid request: {exc}", None)
        except Exception as exc:  # a node answers every failure; it does not crash
            return _error(request_id, -32000, str(exc) or type(exc).__name__, None)
        if "error" in response:
            error: dict[str, Any] = dict(response["error"])
            return _error(request_id, int(error.get("code", -32000)), str(error.get("message")))
        return {"jsonrpc": "2.0", "id": request_id, "result": to_json(response.get("result"))}


def to_json(value: Any, key: str = "") -> Any:
    """Convert eth-tester's Python values to JSON-RPC form (quantities and data as hex)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return "0x" + value.to_bytes(256, "big").hex() if key in _BLOOM_KEYS else hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): to_json(v, str(k)) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [to_json(v) for v in value]
    return str(value)


def _revert_data(exc: BaseException) -> str:
    """Find the raw revert bytes in an exception, its arguments, or what caused it."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop(0)
        if isinstance(item, bytes | bytearray):
            return "0x" + bytes(item).hex()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        todo += [*item.args[:1], item.__cause__, item.__context__]
    return "0x"


def _error(request_id: int, code: int, message: str, data: str | None = None) -> RPCResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}  # type: ignore[typeddict-item]
