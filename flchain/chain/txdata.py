"""Helpers of the Transactor: call data, addresses, batches, retryable refusals, sent log."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Concatenate, ParamSpec

from hexbytes import HexBytes

from flchain.exceptions import ConfigError, RPCError
from flchain.types import Address, TxHash

if TYPE_CHECKING:
    from web3.types import TxReceipt

    from flchain.chain.transactor import Transactor

BATCH_SIZE = 200  # requests per JSON-RPC batch


def send_batches(senders: Sequence[Address], ordered: bool) -> list[list[int]]:
    """Which transactions (by index) go together in each JSON-RPC batch, in sending order.

    A node may run the requests of one batch concurrently, and Anvil's automine can
    then miss a sender's transactions that arrive out of nonce order, so a batch never
    holds two transactions of one sender: the k-th transaction of every sender goes
    in batch k (at most BATCH_SIZE per batch). ``ordered`` sends one at a time, so the
    chain sees the list's order across senders too.
    """
    if ordered:
        return [[i] for i in range(len(senders))]
    rounds: list[list[int]] = []
    seen: dict[Address, int] = {}
    for i, sender in enumerate(senders):
        k = seen.get(sender, 0)
        seen[sender] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(i)
    return [r[s : s + BATCH_SIZE] for r in rounds for s in range(0, len(r), BATCH_SIZE)]


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


class SentLog:
    """Raw transactions sent and not yet seen mined (the oldest dropped past ``limit``).

    Kept so that a transaction a development node lost can be sent again, byte for byte.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._raw: dict[str, str] = {}
        self._lock = threading.Lock()

    def remember(self, sent: Sequence[tuple[str, str]]) -> None:
        """Record ``(tx_hash, raw)`` pairs just accepted by the node."""
        with self._lock:
            self._raw.update(sent)
            while len(self._raw) > self._limit:
                del self._raw[next(iter(self._raw))]

    def forget(self, tx_hash: str) -> None:
        """``tx_hash`` is mined: stop keeping its bytes."""
        with self._lock:
            self._raw.pop(tx_hash, None)

    def raws(self, tx_hashes: Sequence[str]) -> dict[str, str]:
        """The kept raw bytes of those of ``tx_hashes`` still unmined."""
        with self._lock:
            return {h: self._raw[h] for h in tx_hashes if h in self._raw}


P = ParamSpec("P")


def then_wait(
    send: Callable[Concatenate[Transactor, P], TxHash],
) -> Callable[Concatenate[Transactor, P], TxReceipt]:
    """``send``, then wait for the transaction's receipt: the same parameters, one definition."""

    def transact(self: Transactor, /, *args: P.args, **kwargs: P.kwargs) -> TxReceipt:
        """Send one transaction (see :meth:`Transactor.send`) and wait for its receipt."""
        return self.wait(send(self, *args, **kwargs))

    return transact
