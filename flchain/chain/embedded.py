"""An in-process py-evm chain that speaks plain JSON-RPC (hex in, hex out).

web3's :class:`EthereumTesterProvider` only understands requests after web3's own
middleware has formatted them, answers with Python ints and bytes, and turns a
revert into an exception that loses the revert data. :class:`EmbeddedProvider`
wraps it so that it behaves like a real node: JSON-RPC values in standard hex
form, and a revert answered as ``{"code": 3, "data": "0x..."}`` as Anvil does.
The same object serves the embedded node's HTTP server (``embedded_node``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any, cast

from eth.abc import SignedTransactionAPI, StateAPI
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.spoof import SpoofTransaction
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import _execute_and_revert_transaction
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.exceptions import TransactionFailed, TransactionNotFound, ValidationError
from eth_tester.utils.filters import check_if_log_matches
from eth_utils.functional import to_tuple
from web3 import Web3
from web3.providers import BaseProvider
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse

_HD_PATH = "m/44'/60'/0'/0"  # the path Anvil and Ganache derive accounts on
_BLOOM_KEYS = frozenset({"logsBloom"})
_FILLS_FROM = frozenset({"eth_call", "eth_estimateGas", "eth_createAccessList"})
"""Requests whose missing ``from`` eth-tester fills with the first account."""
ESTIMATE_STEP = 32
"""When the gas a call burns is not enough, the estimate grows by 1/ESTIMATE_STEP of it..."""
ESTIMATE_STEP_MIN = 2300
"""... plus this (a call's stipend), until the transaction succeeds."""
_CALLS_KEPT = 4096
"""Most ``eth_call`` answers kept for the latest block (forgotten at the next block)."""


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

    def estimate_gas(self, transaction: dict[str, Any], block_number: Any = "latest") -> int:
        self.chain.gas_estimator = least_gas  # set on every chain object the backend makes
        return int(super().estimate_gas(transaction, block_number))

    def call(self, transaction: dict[str, Any], block_number: Any = "latest") -> bytes:
        request = dict(transaction)
        request.setdefault("gas", self._max_available_gas())
        unsigned = self._get_normalized_and_unsigned_evm_transaction(request, block_number)
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        computation = _execute_and_revert_transaction(self.chain, spoofed, block_number)
        if computation.is_error:
            raise TransactionFailed(computation._error)
        return bytes(computation.output)


def least_gas(state: StateAPI, transaction: SignedTransactionAPI) -> int:
    """The gas ``transaction`` needs, in two or three runs (py-evm's search takes a dozen).

    A run with the block's gas limit tells whether it succeeds (else its error
    raises) and the gas it burns before refunds, below which no limit can work.
    That often suffices; a call that forwards gas (1/64 of it is kept back at each
    level) may need a little more, found by stepping up (see ``ESTIMATE_STEP``).
    """
    top = _run(state, transaction, state.gas_limit)
    if top.is_error:
        raise top.error
    need = int(transaction.intrinsic_gas + top.get_gas_used())
    while need < state.gas_limit:
        if not _run(state, transaction, need).is_error:
            return need
        need = min(state.gas_limit, need + need // ESTIMATE_STEP + ESTIMATE_STEP_MIN)
    return int(state.gas_limit)


def _run(state: StateAPI, transaction: SignedTransactionAPI, gas: int) -> Any:
    """Apply ``transaction`` with ``gas`` (free of charge) and undo it; the computation."""
    snapshot = state.snapshot()
    try:
        spoofed: Any = SpoofTransaction(transaction, gas=gas, gas_price=0)
        return state.apply_transaction(spoofed)
    finally:
        state.revert(snapshot)


class _Tester(EthereumTester):  # type: ignore[misc]
    """eth-tester whose ``eth_getLogs`` reads each mined block's logs once.

    eth-tester rebuilds every receipt of every block in the range on each query,
    so a reader polling from its deployment block pays for the whole chain each
    time. A mined block never changes, so its logs are kept by block hash (after
    ``evm_revert`` a block at the same height has another hash); filtering uses
    eth-tester's own rules.
    """

    def __init__(self, backend: _Backend) -> None:
        super().__init__(backend)
        self._block_logs: dict[bytes, tuple[Any, ...]] = {}

    @to_tuple  # type: ignore[misc]
    def get_logs(
        self, from_block: Any = None, to_block: Any = None, address: Any = None, topics: Any = None
    ) -> Iterator[Any]:
        self.validator.validate_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        raw_from, raw_to, raw_address, raw_topics = self.normalizer.normalize_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        matches = partial(
            check_if_log_matches,
            from_block=raw_from,
            to_block=raw_to,
            addresses=raw_address,
            topics=raw_topics,
        )
        lower = raw_from if isinstance(raw_from, int) else self._number(raw_from)
        upper = raw_to if isinstance(raw_to, int) else self._number(raw_to)
        for number in range(lower, upper + 1):
            for entry in self._logs_of(number):
                if matches(entry):
                    yield self.normalizer.normalize_outbound_log_entry(entry)

    def _number(self, tag: Any) -> int:
        return int(self.get_block_by_number("latest" if tag is None else tag)["number"])

    def _logs_of(self, number: int) -> tuple[Any, ...]:
        """Block ``number``'s log entries (raw form), cached once the block is mined."""
        chain = self.backend.chain
        mined = number <= chain.get_canonical_head().block_number
        key = chain.chaindb.get_canonical_block_hash(number) if mined else None
        if key is not None and key in self._block_logs:
            return self._block_logs[key]
        block = self.get_block_by_number(number)
        entries = tuple(
            self.normalizer.normalize_inbound_log_entry(log)
            for tx_hash in block["transactions"]
            for log in self.get_transaction_receipt(tx_hash)["logs"]
        )
        if key is not None:
            self._block_logs[key] = entries
        return entries


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
        self._tester = EthereumTesterProvider(_Tester(backend))
        self._inner = Web3(self._tester, middleware=[])
        self._call = self._tester.request_func(self._inner, self._inner.middleware_onion)
        first = list(self._inner.eth.accounts)[:1]
        self._default_from: str | None = str(first[0]) if first else None
        self._backend = backend
        self._calls: dict[str, RPCResponse] = {}
        self._calls_at = b""
        self._lock = threading.Lock()
        self._next_id = 0

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock:
            self._next_id += 1
            if method == "eth_call" and _at_latest(params):
                return self._latest_call(self._next_id, params)
            return self._handle(self._next_id, str(method), params)

    def _latest_call(self, request_id: int, params: Any) -> RPCResponse:
        """``eth_call`` on the latest block, executed once per block and request.

        Its answer depends only on that block (state and header: eth-tester runs a
        call in the latest block's own context, not at the clock's time), and
        parties waiting for a phase all ask the same views many times per block.
        """
        head = bytes(self._backend.chain.header.parent_hash)  # the latest mined block
        if head != self._calls_at or len(self._calls) >= _CALLS_KEPT:
            self._calls.clear()
            self._calls_at = head
        try:
            key = json.dumps(params, sort_keys=True)
        except (TypeError, ValueError):
            return self._handle(request_id, "eth_call", params)
        if key not in self._calls:
            self._calls[key] = self._handle(request_id, "eth_call", params)
        return cast(RPCResponse, {**self._calls[key], "id": request_id})

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        return [self.make_request(method, params) for method, params in requests]

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True

    def _handle(self, request_id: int, method: str, params: Any) -> RPCResponse:
        if method in _FILLS_FROM:
            params = self._with_from(params)
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

    def _with_from(self, params: Any) -> Any:
        """Fill a missing ``from`` with the first account, as eth-tester's middleware would,
        without it listing (and checksumming) every account three times per request."""
        if not isinstance(params, list | tuple) or not params or self._default_from is None:
            return params
        request = params[0]
        if not isinstance(request, Mapping) or request.get("from") is not None:
            return params
        return [{**request, "from": self._default_from}, *params[1:]]


def _at_latest(params: Any) -> bool:
    """Whether ``eth_call`` params ask for the latest block (explicitly or by default)."""
    return isinstance(params, list | tuple) and (
        len(params) == 1 or (len(params) == 2 and params[1] == "latest")
    )


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
