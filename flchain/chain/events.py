"""Reading a contract's event logs: paged by block range, decoded, in chain order."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_abi.grammar import parse
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic
from web3 import Web3

from flchain.chain.connection import rpc
from flchain.exceptions import ChainError, ConfigError
from flchain.types import Address, TxHash


@dataclass(frozen=True)
class DecodedEvent:
    """One decoded log: the event's name and arguments, and where it was emitted."""

    name: str
    args: dict[str, Any]
    block_number: int
    tx_hash: TxHash
    log_index: int
    address: Address


def iter_logs(
    w3: Web3,
    address: Address | str,
    abi: Sequence[dict[str, Any]],
    event_names: Sequence[str] | None,
    from_block: int,
    to_block: int | None = None,
    page: int = 2000,
    indexed: Sequence[int | str] = (),
) -> Iterator[DecodedEvent]:
    """Yield ``address``'s events named ``event_names`` (all of the ABI's if None).

    Blocks ``from_block..to_block`` (inclusive; ``to_block=None`` means the latest
    block when the call starts) are fetched ``page`` blocks per ``eth_getLogs``,
    and yielded in order of block number and log index. ``indexed`` filters one
    event on the node by its first indexed arguments (integers or hex values).
    """
    if page < 1:
        raise ConfigError(f"page must be >= 1, got {page}")
    if from_block < 0:
        raise ConfigError(f"from_block must be >= 0, got {from_block}")
    try:
        contract = Address(Web3.to_checksum_address(address))
    except ValueError as exc:
        raise ConfigError(f"not a contract address: {address!r}") from exc
    by_topic = _events_by_topic(abi, event_names)
    decoders = {topic: EventDecoder(event) for topic, event in by_topic.items()}
    last = int(rpc(w3, "eth_blockNumber", []), 16) if to_block is None else to_block
    # one event: filter on the node; several: filter here (not every node takes OR-topics)
    topics = list(by_topic)[:1] if len(by_topic) == 1 else []
    if indexed and not topics:
        raise ConfigError("indexed filters need exactly one event name")
    topics += [_topic(value) for value in indexed]
    for start in range(from_block, last + 1, page):
        end = min(start + page - 1, last)
        query = {
            "address": contract,
            "fromBlock": hex(start),
            "toBlock": hex(end),
            "topics": topics,
        }
        logs = rpc(w3, "eth_getLogs", [query])
        logs.sort(key=lambda entry: (int(entry["blockNumber"], 16), int(entry["logIndex"], 16)))
        for raw in logs:
            topic0 = raw["topics"][0].lower() if raw.get("topics") else None
            if topic0 in decoders:
                yield decoders[topic0].decode(raw)


def _topic(value: int | str) -> str:
    if isinstance(value, int):
        return "0x" + value.to_bytes(32, "big").hex()
    return "0x" + bytes.fromhex(value.removeprefix("0x")).rjust(32, b"\0").hex()


def _events_by_topic(
    abi: Sequence[dict[str, Any]], names: Sequence[str] | None
) -> dict[str, dict[str, Any]]:
    events = [e for e in abi if e.get("type") == "event" and not e.get("anonymous")]
    known = {str(e["name"]) for e in events}
    if names is not None:
        unknown = sorted(set(names) - known)
        if unknown:
            raise ConfigError(f"no event(s) {', '.join(unknown)} in the ABI (has {sorted(known)})")
        events = [e for e in events if e["name"] in names]
    if not events:
        raise ConfigError("no events to read: the ABI has none of those asked")
    return {"0x" + event_abi_to_log_topic(e).hex(): e for e in events}  # type: ignore[arg-type]


class EventDecoder:
    """Decodes the logs of one event ABI with eth-abi directly (web3's ``process_log`` costs
    about a millisecond a log, which dominates reading a long history): the same
    arguments, addresses checksummed; an indexed dynamic value (a hash in its topic)
    is returned as the topic's 32 bytes, as web3 does."""

    def __init__(self, abi: dict[str, Any]) -> None:
        self.name = str(abi["name"])
        inputs = list(abi.get("inputs", []))
        self._indexed = [(str(i["name"]), collapse_if_tuple(i)) for i in inputs if i["indexed"]]
        self._data = [(str(i["name"]), collapse_if_tuple(i)) for i in inputs if not i["indexed"]]
        self._order = [str(i["name"]) for i in inputs]

    def decode(self, raw: dict[str, Any]) -> DecodedEvent:
        try:
            topics = [bytes.fromhex(t.removeprefix("0x")) for t in raw["topics"][1:]]
            if len(topics) != len(self._indexed):
                raise ValueError(f"{len(topics)} topics for {len(self._indexed)} indexed inputs")
            values: dict[str, Any] = {}
            for (name, kind), topic in zip(self._indexed, topics, strict=True):
                values[name] = topic if is_dynamic_type(kind) else decode([kind], topic)[0]
            data = bytes.fromhex(str(raw["data"]).removeprefix("0x"))
            decoded = decode([kind for _, kind in self._data], data)
            values.update((name, v) for (name, _), v in zip(self._data, decoded, strict=True))
            args = {
                name: _normalised(kind, values[name])
                for name, kind in (*self._indexed, *self._data)
            }
            return DecodedEvent(
                name=self.name,
                args={name: args[name] for name in self._order},
                block_number=int(raw["blockNumber"], 16),
                tx_hash=TxHash("0x" + str(raw["transactionHash"]).removeprefix("0x").lower()),
                log_index=int(raw["logIndex"], 16),
                address=_checksum(str(raw["address"])),
            )
        except (DecodingError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ChainError(f"cannot decode {self.name} log: {exc}") from exc


@functools.lru_cache(maxsize=65536)
def _checksum(address: str) -> Address:
    return Address(Web3.to_checksum_address(address))


def _normalised(kind: str, value: Any) -> Any:
    """``value`` of ABI type ``kind`` as web3 returns it: addresses checksummed, arrays
    as lists."""
    if kind == "address":
        return _checksum(value)
    if kind.endswith("]"):
        return [_normalised(kind[: kind.rindex("[")], v) for v in value]
    return value


def is_dynamic_type(kind: str) -> bool:
    """Whether an ABI type is dynamic (its indexed topic holds a hash, not the value)."""
    return bool(parse(kind).is_dynamic)
