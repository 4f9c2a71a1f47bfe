"""Typed records of a task's history, as :func:`flchain.chain.history.read_history` returns them.

The event types here (and :class:`~flchain.chain.protocol_types.Submission`)
are the only ones: :class:`~flchain.chain.protocol.ProtocolClient` returns
them too, built from decoded events by the functions at the end of this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from flchain.chain.cidcodec import bytes_to_cid
from flchain.chain.protocol_types import ClientState, MinerState, Submission, TaskParams
from flchain.types import Address, CIDStr, TxHash

if TYPE_CHECKING:
    from flchain.chain.events import DecodedEvent

Position = tuple[int, int]
"""Where an event sits in the chain: (block number, log index)."""


class MembershipKind(StrEnum):
    """What a :class:`Membership` records."""

    CLIENT_REGISTERED = "client_registered"
    MINER_REGISTERED = "miner_registered"
    CLIENT_LEFT = "client_left"
    MINER_LEFT = "miner_left"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Membership:
    """A registration, departure or withdrawal, in chain order.

    ``amount`` is the bond (registration) or the ether paid out (withdrawal);
    ``round`` the round a party left in; ``index`` a client's place in the sampling
    population (its registrations only).
    """

    kind: MembershipKind
    account: Address
    position: Position
    amount: int = 0
    reputation: int = 0
    round: int = -1
    index: int = -1


@dataclass(frozen=True)
class Commit:
    """A committee member's commitment (``VotesCommitted``)."""

    miner: Address
    commitment: bytes
    tx_hash: TxHash


@dataclass(frozen=True)
class Reveal:
    """A committee member's revealed scores and salt (``VotesRevealed``)."""

    miner: Address
    scores: tuple[int, ...]
    salt: bytes
    tx_hash: TxHash


@dataclass(frozen=True)
class Scored:
    """The chain's verdict on one update (its place in an ``UpdatesScored`` page)."""

    index: int
    client: Address
    median: int
    reveals: int
    accepted: bool


@dataclass(frozen=True)
class ReputationChange:
    """``ReputationChanged`` as emitted by ``finalizeRound`` (committee members: a client's
    reputation is settled lazily, without an event)."""

    account: Address
    old: int
    new: int


@dataclass(frozen=True)
class Reward:
    """Reward tokens credited to a committee member (``Rewarded``), claimable by ``claim``."""

    account: Address
    amount: int


@dataclass(frozen=True)
class Slash:
    """A committee member's bond cut (``Slashed``)."""

    miner: Address
    amount: int
    remaining: int


@dataclass(frozen=True)
class Attestation:
    """A committee member's claim about the CID of a round's aggregate (``AggregateAttested``)."""

    attester: Address
    cid: CIDStr


@dataclass(frozen=True)
class Finalization:
    """``RoundFinalized``: the accepted set, where the last finalizing transaction sits, and
    the verdict on every update (the ``UpdatesScored`` pages that precede it)."""

    accepted: tuple[int, ...]
    num_submissions: int
    num_reveals: int
    position: Position
    tx_hash: TxHash
    updates: tuple[Scored, ...] = ()
    num_accepted: int = 0


@dataclass
class RoundRecord:
    """Everything the chain recorded about one round."""

    round: int
    opened_at: int = 0
    expected_submissions: int = 0
    population: int = 0  # clients registered when it opened: the sample's population
    opened: Position | None = None
    committee: tuple[Address, ...] = ()
    seed: bytes = b""
    expected_seed: bytes | None = None  # recomputed from the task and earlier reveals
    submissions: list[Submission] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    reveals: list[Reveal] = field(default_factory=list)
    scored: list[Scored] = field(default_factory=list)
    finalization: Finalization | None = None
    reputation_changes: list[ReputationChange] = field(default_factory=list)
    rewards: list[Reward] = field(default_factory=list)
    slashes: list[Slash] = field(default_factory=list)
    miners_dropped: list[Address] = field(default_factory=list)
    attestations: list[Attestation] = field(default_factory=list)
    certified: CIDStr | None = None  # from AggregateCertified
    certified_state: CIDStr | None = None  # from the certifiedAggregate view
    disputes: list[Attestation] = field(default_factory=list)
    gas_used: int = 0
    transactions: int = 0


@dataclass
class ProtocolHistory:
    """A task's history from events plus the state views at ``to_block``."""

    chain_id: int
    protocol: Address
    token: Address
    from_block: int
    to_block: int
    params: TaskParams
    current_round: int
    rounds: list[RoundRecord]
    memberships: list[Membership]
    clients: dict[Address, ClientState]
    miners: dict[Address, MinerState]
    balances: dict[Address, int]
    minted: dict[Address, int]
    transferred: dict[Address, int]  # net non-mint token transfers received
    claimed: dict[Address, int] = field(default_factory=dict)  # RewardsClaimed, summed
    claimable: dict[Address, int] = field(default_factory=dict)  # the claimable view
    token_supply: int = 0
    total_credited: int = 0  # the totalCredited view
    total_claimed: int = 0  # the totalClaimed view
    setup_gas: int = 0  # gas of transactions that belong to no round (registrations, ...)


# --- from decoded events ------------------------------------------------------------


def address(value: Any) -> Address:
    """A checksummed address from an event argument."""
    return Address(to_checksum_address(value))


def position(e: DecodedEvent) -> Position:
    return (e.block_number, e.log_index)


def submission(e: DecodedEvent) -> Submission:
    """``UpdateSubmitted`` as a :class:`Submission` (CID as a string)."""
    a = e.args
    return Submission(
        round=int(a["round"]),
        index=int(a["index"]),
        client=address(a["client"]),
        cid=bytes_to_cid(a["cid"]),
        num_samples=int(a["numSamples"]),
        block_number=e.block_number,
    )


def unpack16(words: Sequence[int], count: int) -> list[int]:
    """``count`` 16-bit values packed 16 per word, lowest bits first (medians, revealed scores)."""
    return [(int(words[j >> 4]) >> (16 * (j & 15))) & 0xFFFF for j in range(count)]


def reveal(e: DecodedEvent) -> Reveal:
    """``VotesRevealed`` (its scores packed 16 per word) as a :class:`Reveal`."""
    a = e.args
    scores = tuple(unpack16(a["scores"], a["count"]))
    return Reveal(address(a["miner"]), scores, bytes(a["salt"]), e.tx_hash)


def scored_page(e: DecodedEvent, clients: Sequence[Address]) -> list[Scored]:
    """One ``UpdatesScored`` page as a :class:`Scored` per update; ``clients`` are the round's
    submitters by index (from ``UpdateSubmitted``)."""
    a = e.args
    first, count, reveals, bits = a["firstIndex"], a["count"], a["reveals"], a["acceptedBits"]
    out = []
    for j, median in enumerate(unpack16(a["medians"], count)):
        i = first + j
        client = clients[i] if i < len(clients) else address("0x" + "00" * 20)
        out.append(Scored(i, client, median, reveals, bool((bits >> j) & 1)))
    return out


def finalization(e: DecodedEvent, updates: Sequence[Scored]) -> Finalization:
    """``RoundFinalized`` with the round's scored updates (the accepted set follows from them)."""
    a = e.args
    accepted = tuple(u.index for u in updates if u.accepted)
    return Finalization(
        accepted,
        a["numSubmissions"],
        a["numReveals"],
        position(e),
        e.tx_hash,
        tuple(updates),
        a["numAccepted"],
    )
