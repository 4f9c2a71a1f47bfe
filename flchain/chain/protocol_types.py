"""Typed values of the FLchain protocol contract, as the Python API returns them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields
from enum import IntEnum
from typing import Any

from flchain.chain.cidcodec import bytes_to_cid, cid_to_bytes
from flchain.exceptions import ConfigError
from flchain.types import MAX_SCORE, Address, CIDStr

MAX_COMMITTEE = 16
MAX_UPDATES = 4096
FINALIZE_PAGE = 128
"""Updates one ``finalizeRound`` call scores at most (``FLParams.FINALIZE_PAGE``): a round of
N updates takes ``ceil(N / FINALIZE_PAGE)`` calls."""
PREPARE_PAGE = 64
"""Update slots one ``prepareSlots`` call makes ready (``FLParams.PREPARE_PAGE``)."""
MAX_TASK_REWARD = 2**80 - 1
"""Bound on ``rounds * client_reward_per_round`` and ``rounds * miner_reward_per_round``: a
client's claimable reward is kept in 80 bits (``FLParams.MAX_TASK_REWARD``)."""


class Phase(IntEnum):
    """Where a round is (mirrors ``IFLProtocol.Phase``)."""

    NOT_OPENED = 0
    SUBMIT = 1
    COMMIT = 2
    REVEAL = 3
    CLOSED = 4  # reveal over, awaiting finalizeRound
    FINALIZED = 5


class MemberStatus(IntEnum):
    """A client's or miner's registration status."""

    NONE = 0
    ACTIVE = 1
    LEFT = 2  # bond waits for withdraw()


@dataclass(frozen=True)
class TaskParams:
    """Parameters fixed at deployment (mirrors ``IFLProtocol.TaskParams``).

    ``rounds`` is the task's length (finalizing round ``rounds - 1`` finishes it);
    durations are seconds; rewards are token base units; bonds are wei;
    ``acceptance_threshold`` is a score in basis points (1..10000).
    ``clients_per_round`` 0: every active client trains every round, and at most
    ``max_updates_per_round`` clients are active at once; K > 0: K clients are drawn
    each round (:mod:`flchain.chain.sampling`), one update slot each.
    """

    initial_model_cid: CIDStr
    spec_cid: CIDStr
    rounds: int = 3
    committee_size: int = 3
    quorum: int = 2
    acceptance_threshold: int = 5_000
    submit_duration: int = 60
    commit_duration: int = 30
    reveal_duration: int = 30
    client_reward_per_round: int = 100 * 10**18
    miner_reward_per_round: int = 30 * 10**18
    sample_cap: int = 10_000
    slash_bps: int = 1_000
    max_updates_per_round: int = 64
    client_bond: int = 10**17
    miner_bond: int = 10**18
    clients_per_round: int = 0

    def __post_init__(self) -> None:
        cid_to_bytes(self.initial_model_cid)
        cid_to_bytes(self.spec_cid)
        checks = {
            "rounds": 0 < self.rounds < 2**32,
            "committee_size": 1 <= self.committee_size <= MAX_COMMITTEE,
            "quorum": 1 <= self.quorum <= self.committee_size,
            "acceptance_threshold": 1 <= self.acceptance_threshold <= MAX_SCORE,
            "submit_duration": 0 < self.submit_duration < 2**32,
            "commit_duration": 0 < self.commit_duration < 2**32,
            "reveal_duration": 0 < self.reveal_duration < 2**32,
            "client_reward_per_round": 0
            <= self.client_reward_per_round * self.rounds
            <= MAX_TASK_REWARD,
            "miner_reward_per_round": 0
            <= self.miner_reward_per_round * self.rounds
            <= MAX_TASK_REWARD,
            "sample_cap": 0 < self.sample_cap < 2**32,
            "slash_bps": 0 <= self.slash_bps <= 10_000,
            "max_updates_per_round": 1 <= self.max_updates_per_round <= MAX_UPDATES,
            "client_bond": 0 <= self.client_bond < 2**80,
            "miner_bond": 0 <= self.miner_bond < 2**96,
            "clients_per_round": 0 <= self.clients_per_round <= self.max_updates_per_round,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise ConfigError(f"invalid task parameter(s): {shown}")

    def to_abi(self) -> tuple[Any, ...]:
        """The tuple the contract's constructor takes."""
        values = list(astuple(self))
        values[0] = cid_to_bytes(self.initial_model_cid)
        values[1] = cid_to_bytes(self.spec_cid)
        return tuple(values)

    @classmethod
    def from_abi(cls, raw: tuple[Any, ...]) -> TaskParams:
        """Inverse of :meth:`to_abi`."""
        values = list(raw)
        values[0] = bytes_to_cid(values[0])
        values[1] = bytes_to_cid(values[1])
        names = [f.name for f in fields(cls)]
        return cls(**dict(zip(names, values, strict=True)))


@dataclass(frozen=True)
class Deployment:
    """Where a task's contracts live."""

    protocol: Address
    token: Address
    block: int  # block of the protocol's deployment: read events from here
    chain_id: int
    deployer: Address


@dataclass(frozen=True)
class RoundInfo:
    """One round's state (``roundInfo(r)``); phase ends are unix timestamps."""

    round: int
    phase: Phase
    opened_at: int
    submit_end: int
    commit_end: int
    reveal_end: int
    expected_submissions: int
    num_submissions: int
    committee_size: int
    num_commits: int
    num_reveals: int
    num_accepted: int
    certified: bool


@dataclass(frozen=True)
class Submission:
    """An update as submitted (from its ``UpdateSubmitted`` event)."""

    round: int
    index: int
    client: Address
    cid: CIDStr
    num_samples: int
    block_number: int


@dataclass(frozen=True)
class ClientState:
    """A client's registration (``clientInfo``)."""

    status: MemberStatus
    bond: int
    reputation: int
    last_submitted_round: int | None


@dataclass(frozen=True)
class MinerState:
    """A miner's registration (``minerInfo``)."""

    status: MemberStatus
    bond: int
    reputation: int


@dataclass(frozen=True)
class TxResult:
    """A mined transaction, as a party needs it: its gas and its hash; for a write sent as
    several transactions (a round's finalization, page by page), their total gas, the last
    one's hash, how many there were and the largest one's gas."""

    gas_used: int
    tx_hash: str
    transactions: int = 1
    largest_gas_used: int = 0

    @property
    def largest(self) -> int:
        """The gas of the largest single transaction."""
        return self.largest_gas_used or self.gas_used

    @classmethod
    def from_receipt(cls, receipt: Mapping[str, Any]) -> TxResult:
        """The gas and ``0x``-hex hash of a node's receipt."""
        raw = receipt["transactionHash"]
        tx_hash = raw if isinstance(raw, str) else "0x" + bytes(raw).hex()
        return cls(int(receipt["gasUsed"]), tx_hash)
