"""Decoding revert data into :class:`~flchain.exceptions.ContractRevertError`.

A contract's custom errors (``type: "error"`` ABI entries) are registered by their
4-byte selector; Solidity's built-in ``Error(string)`` and ``Panic(uint256)`` are
always known. Function entries are registered too, so that an error can name the
function whose call data it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import abi_to_signature, collapse_if_tuple, function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxReceipt

from flchain.chain.connection import rpc
from flchain.exceptions import ChainError, ContractRevertError, RPCError, TransactionFailedError

_BUILTIN: dict[bytes, tuple[str, list[str]]] = {
    bytes.fromhex("08c379a0"): ("Error", ["string"]),
    bytes.fromhex("4e487b71"): ("Panic", ["uint256"]),
}


class ErrorRegistry:
    """Selectors of known custom errors and functions, shared by one Transactor."""

    def __init__(self) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = dict(_BUILTIN)
        self._functions: dict[bytes, str] = {}

    def register(self, abi: Sequence[dict[str, Any]]) -> None:
        """Learn the errors and functions of one contract ABI."""
        for entry in abi:
            kind = entry.get("type")
            if kind not in ("error", "function"):
                continue
            selector = function_signature_to_4byte_selector(abi_to_signature(entry))  # type: ignore[arg-type]
            if kind == "error":
                types = [collapse_if_tuple(dict(i)) for i in entry.get("inputs", [])]
                self._errors[selector] = (str(entry["name"]), types)
            else:
                self._functions[selector] = str(entry["name"])

    def function_name(self, calldata: bytes) -> str:
        """The registered function ``calldata`` calls, or ``""``."""
        return self._functions.get(bytes(calldata[:4]), "")

    def decode(
        self, data: bytes, function: str = ""
    ) -> TransactionFailedError | ContractRevertError:
        """The exception for revert ``data`` (ContractRevertError when the error is known)."""
        where = f" in {function}" if function else ""
        if not data:
            return TransactionFailedError(f"reverted{where} without a reason")
        known = self._errors.get(bytes(data[:4]))
        if known is None:
            return TransactionFailedError(f"reverted{where} with unknown error 0x{data.hex()}")
        name, types = known
        try:
            values = decode(types, bytes(data[4:]))
        except (DecodingError, OverflowError, ValueError) as exc:
            return TransactionFailedError(f"reverted{where} with undecodable {name}: {exc}")
        args = [_normalize(t, v) for t, v in zip(types, values, strict=True)]
        return ContractRevertError(name, args, function)


def revert_data(error: RPCError) -> bytes | None:
    """The revert data carried by a node's error, ``b""`` for a bare revert, None if no revert."""
    data = error.data
    while isinstance(data, dict):  # some nodes nest it: {"data": ...} or {hash: {"return": ...}}
        inner = data.get("data", data.get("return", data.get("result")))
        if inner is None and len(data) == 1:
            inner = next(iter(data.values()))
        data = inner
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            pass
    message = str(error).lower()
    if error.code == 3 or "revert" in message:
        return b""
    return None


def explain_failure(w3: Web3, errors: ErrorRegistry, receipt: TxReceipt) -> ChainError:
    """Why a mined transaction failed: replay it with ``eth_call`` on its parent block."""
    tx_hash = receipt["transactionHash"].to_0x_hex()
    tx = rpc(w3, "eth_getTransactionByHash", [tx_hash])
    calldata = HexBytes(tx.get("input") or tx.get("data") or "0x")
    function = errors.function_name(calldata)
    replay = {k: tx[k] for k in ("from", "to", "value", "gas") if tx.get(k) is not None}
    replay["data"] = calldata.to_0x_hex()
    parent = hex(max(int(receipt["blockNumber"]) - 1, 0))
    try:
        rpc(w3, "eth_call", [replay, parent])
    except RPCError as exc:
        data = revert_data(exc)
        if data is not None:
            return errors.decode(data, function)
        return TransactionFailedError(f"transaction {tx_hash} failed: {exc}")
    where = f" in {function}" if function else ""
    used, limit = receipt["gasUsed"], int(tx["gas"], 16)
    return TransactionFailedError(
        f"transaction {tx_hash} failed{where} (status 0, gas used {used} of {limit})"
    )


def _normalize(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.startswith("address[") and isinstance(value, tuple | list):
        return tuple(to_checksum_address(v) for v in value)
    return value
