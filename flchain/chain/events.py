"""Reading a contract's event logs: paged by block range, decoded, in chain order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eth_typing import BlockNumber
from eth_utils.abi import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import LogReceipt

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
    events = w3.eth.contract(abi=list(by_topic.values())).events  # type: ignore[call-overload]
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
            if topic0 in by_topic:
                yield _decode(events[by_topic[topic0]["name"]], raw)


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


def _decode(event: Any, raw: dict[str, Any]) -> DecodedEvent:
    """Decode one raw log with web3's public ``ContractEvent.process_log``."""
    try:
        decoded = event.process_log(_log_receipt(raw))
    except (Web3Exception, ValueError, KeyError) as exc:
        raise ChainError(f"cannot decode {event.event_name} log: {exc}") from exc
    return DecodedEvent(
        name=str(decoded["event"]),
        args=dict(decoded["args"]),
        block_number=int(decoded["blockNumber"]),
        tx_hash=TxHash(decoded["transactionHash"].to_0x_hex()),
        log_index=int(decoded["logIndex"]),
        address=Address(str(decoded["address"])),
    )


def _log_receipt(raw: dict[str, Any]) -> LogReceipt:
    """A raw ``eth_getLogs`` entry (hex strings) in the typed form ``process_log`` takes."""
    return LogReceipt(
        address=Web3.to_checksum_address(raw["address"]),
        topics=[HexBytes(t) for t in raw["topics"]],
        data=HexBytes(raw["data"]),
        blockNumber=BlockNumber(int(raw["blockNumber"], 16)),
        blockHash=HexBytes(raw.get("blockHash") or b""),
        logIndex=int(raw["logIndex"], 16),
        transactionHash=HexBytes(raw["transactionHash"]),
        transactionIndex=int(raw.get("transactionIndex") or "0x0", 16),
        removed=bool(raw.get("removed", False)),
    )
