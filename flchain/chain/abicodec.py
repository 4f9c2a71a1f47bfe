"""Encode calls and decode results of one contract ABI, with eth-abi only.

Event logs are decoded in one place, :mod:`flchain.chain.events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.abi import (
    function_abi_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
)

from flchain.exceptions import ChainError, ConfigError


class ContractABI:
    """Calldata and return values of one contract."""

    def __init__(self, abi: Sequence[dict[str, Any]]) -> None:
        self.abi = list(abi)
        self._functions = {str(e["name"]): e for e in abi if e.get("type") == "function"}
        self._constructor = next((e for e in abi if e.get("type") == "constructor"), None)

    def _function(self, name: str) -> dict[str, Any]:
        try:
            return self._functions[name]
        except KeyError:
            raise ConfigError(f"no function {name!r} in the ABI") from None

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
