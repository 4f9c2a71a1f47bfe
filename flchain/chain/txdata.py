"""Pure helpers of the Transactor: call data, addresses, batch bounds, retryable refusals."""

from __future__ import annotations

from collections.abc import Sequence

from hexbytes import HexBytes

from flchain.exceptions import ConfigError, RPCError
from flchain.types import Address

BATCH_SIZE = 200  # requests per JSON-RPC batch


def batch_bounds(senders: Sequence[Address], ordered: bool) -> list[tuple[int, int]]:
    """Batch bounds: at most BATCH_SIZE, and one sender per batch when ``ordered``."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(senders) + 1):
        full = i - start == BATCH_SIZE
        if i == len(senders) or full or (ordered and senders[i] != senders[start]):
            bounds.append((start, i))
            start = i
    return bounds


RETRYABLE = ("nonce too low", "transaction nonce", "correct nonce", "base fee", "fee cap")


def retryable(error: RPCError) -> bool:
    """A refusal that a fresh nonce or fee fixes."""
    message = str(error).lower()
    return any(fragment in message for fragment in RETRYABLE)


def hexdata(data: bytes | str) -> str:
    """``data`` (bytes or a hex string) as ``0x``-prefixed hex."""
    try:
        return HexBytes(data).to_0x_hex()
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"transaction data is not bytes or hex: {data!r:.60}") from exc


def address_bytes(address: str) -> bytes:
    """The 20 bytes of a hex address (checksum not required)."""
    try:
        raw = bytes.fromhex(address.removeprefix("0x"))
    except (ValueError, AttributeError) as exc:
        raise ConfigError(f"not an address: {address!r}") from exc
    if len(raw) != 20:
        raise ConfigError(f"not an address (20 bytes): {address!r}")
    return raw
