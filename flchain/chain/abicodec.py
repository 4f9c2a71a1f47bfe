"""Encode calls and decode results and logs of one contract ABI, with eth-abi only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.abi import (
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
)
from web3 import Web3
from web3._utils.events import get_event_data
from web3._utils.method_formatters import log_entry_formatter

from flchain.exceptions import ChainError, ConfigError


class ContractABI:
    """Calldata, return values and event logs of one contract."""

    def __init__(self, abi: Sequence[dict[str, Any]]) -> None:
        self.abi = list(abi)
        self._functions = {str(e["name"]): e for e in abi if e.get("type") == "function"}
        self._events = {str(e["name"]): e for e in abi if e.get("type") == "event"}
        self._constructor = next((e for e in abi if e.get("type") == "constructor"), None)

    def _function(self, name: str) -> dict[str, Any]:
        try:
            return self._functions[name]
        except KeyError:
            raise ConfigError(f"no function {name!r} in the ABI") from None

    def event(self, name: str) -> dict[str, Any]:
        """The ABI entry of event ``name``."""
        try:
            return self._events[name]
        except KeyError:
            raise ConfigError(f"no event {name!r} in the ABI") from None

    def encode_call(self, name: str, *args: Any) -> bytes:
        """Selector + ABI-encoded arguments of calling ``name``."""
        fn = self._function(name)
        types = get_abi_input_types(fn)  # type: ignore[arg-type]
        return bytes(function_abi_to_4byte_selector(fn)) + encode(types, list(args))  # type: ignore[arg-type]

    def encode_deploy(self, bytecode: str, *args: Any) -> bytes:
        """Creation code followed by the ABI-encoded constructor arguments."""
        code = bytes.fromhex(bytecode.removeprefix("0x"))
        if self._constructor is None:
            return code
        types = get_abi_input_types(self._constructor)  # type: ignore[arg-type]
        return code + encode(types, list(args))

    def decode_result(self, name: str, data: bytes) -> tuple[Any, ...]:
        """The decoded return values of ``name``."""
        types = get_abi_output_types(self._function(name))  # type: ignore[arg-type]
        try:
            return tuple(decode(types, data))
        except Exception as exc:
            raise ChainError(f"cannot decode the result of {name}: {exc}") from exc

    def topic(self, name: str) -> str:
        """``0x``-hex topic 0 of event ``name``."""
        return "0x" + bytes(event_abi_to_log_topic(self.event(name))).hex()  # type: ignore[arg-type]

    def decode_log(self, w3: Web3, name: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Decoded arguments of a raw ``eth_getLogs`` entry of event ``name``, plus ``_block``."""
        try:
            decoded = get_event_data(w3.codec, self.event(name), log_entry_formatter(raw))  # type: ignore[arg-type]
        except Exception as exc:
            raise ChainError(f"cannot decode {name} log: {exc}") from exc
        args = dict(decoded["args"])
        args["_block"] = int(decoded["blockNumber"])
        return args
