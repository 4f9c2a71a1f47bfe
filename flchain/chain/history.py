"""A task's whole history, read back from the chain alone.

    history = read_history(w3, protocol_address, from_block=deployment_block)
    for record in history.rounds:
        record.submissions, record.committee, record.reveals, record.scored, ...

Every event of ``FLProtocol`` is read once (paged ``eth_getLogs``), grouped per
round into typed records; the effects of a round's ``finalizeRound`` pages
(outcomes, reputation changes, rewards, slashes, miners dropped) are kept apart from
membership changes made by the parties themselves. Then the state an auditor
compares against is read from views (client and miner records, certified
CIDs) and from the reward token (balances, mints and transfers), and the gas of
every transaction that emitted an event is summed per round.

Each round's committee seed is recomputed from the task parameters and the
salts revealed in earlier rounds (:mod:`flchain.chain.committee`), and
:func:`draw_committee` repeats the contract's reputation-weighted draw from a
seed, so every committee can be recomputed too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from web3 import Web3

from flchain.chain.cidcodec import bytes_to_cid
from flchain.chain.committee import draw_committee, expected_seeds
from flchain.chain.connection import rpc, rpc_batch
from flchain.chain.deploy import protocol_abi, token_abi
from flchain.chain.events import DecodedEvent, iter_logs
from flchain.chain.history_types import (
    Attestation,
    Commit,
    Finalization,
    Membership,
    MembershipKind,
    Position,
    ProtocolHistory,
    ReputationChange,
    Reveal,
    Reward,
    RoundRecord,
    Scored,
    Slash,
    finalization,
    position,
    reveal,
    scored_page,
    submission,
)
from flchain.chain.history_types import address as _address
from flchain.chain.protocol import ProtocolClient
from flchain.chain.transactor import Transactor
from flchain.exceptions import ChainError, CIDError, ConfigError, RPCError
from flchain.types import Address, TxHash

__all__ = [
    "Attestation",
    "Commit",
    "Finalization",
    "Membership",
    "MembershipKind",
    "Position",
    "ProtocolHistory",
    "ReputationChange",
    "Reveal",
    "Reward",
    "RoundRecord",
    "Scored",
    "Slash",
    "draw_committee",
    "expected_seeds",
    "read_history",
]

ZERO_ADDRESS = Address("0x" + "00" * 20)
RECEIPT_BATCH = 200


def read_history(
    w3: Web3, protocol: str, *, from_block: int = 0, to_block: int | None = None
) -> ProtocolHistory:
    """Read ``protocol``'s whole history (events from ``from_block``) and current state."""
    last = int(rpc(w3, "eth_blockNumber", []), 16) if to_block is None else to_block
    reader = ProtocolClient(Transactor(w3), protocol, ZERO_ADDRESS)
    try:
        params = reader.task_params
        token = reader.token_address
    except (ChainError, CIDError) as exc:
        raise ConfigError(f"{protocol} does not look like an FLchain protocol: {exc}") from exc
    abi = protocol_abi().abi
    names = [e["name"] for e in abi if e.get("type") == "event" and _Builder.handles(e["name"])]
    events = list(iter_logs(w3, reader.address, abi, names, from_block, last))
    builder = _Builder()
    for event in events:
        builder.add(event)
    rounds = builder.rounds()
    accounts = builder.accounts()
    transfers = list(iter_logs(w3, token, token_abi().abi, ["Transfer"], from_block, last))
    minted, transferred = _token_flows(transfers)
    rewarded = {r.account for rec in rounds for r in rec.rewards}
    holders = sorted({*accounts, *minted, *rewarded, *builder.claimed})
    credited, claimed = reader.reward_totals()
    clients, miners = reader.states_of(sorted(accounts))
    balances, claimable = reader.rewards_of(holders)
    history = ProtocolHistory(
        chain_id=reader.transactor.chain_id,
        protocol=reader.address,
        token=token,
        from_block=from_block,
        to_block=last,
        params=params,
        current_round=reader.current_round(),
        rounds=rounds,
        memberships=builder.memberships,
        clients=clients,
        miners=miners,
        balances=balances,
        minted=minted,
        transferred=transferred,
        claimed=dict(builder.claimed),
        claimable=claimable,
        token_supply=reader.token_supply(),
        total_credited=credited,
        total_claimed=claimed,
    )
    for record in rounds:
        record.certified_state = reader.certified_aggregate(record.round)
    expected_seeds(history.chain_id, history.protocol, params, rounds)
    _add_gas(w3, history, events)
    return history


def _batched(w3: Web3, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """:func:`rpc_batch` over ``calls`` in chunks of :data:`RECEIPT_BATCH`, replies in order."""
    replies: list[Any] = []
    for start in range(0, len(calls), RECEIPT_BATCH):
        replies += rpc_batch(w3, calls[start : start + RECEIPT_BATCH])
    return replies


# --- grouping events --------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class _Builder:
    """Folds decoded events, in chain order, into round records and memberships."""

    def __init__(self) -> None:
        self._rounds: dict[int, RoundRecord] = {}
        self.memberships: list[Membership] = []
        self._finalize_tx: dict[TxHash, int] = {}
        self._pending_drops: list[tuple[TxHash, Membership]] = []
        self.claimed: dict[Address, int] = defaultdict(int)

    @classmethod
    def handles(cls, event: str) -> bool:
        """Whether the builder folds ``event`` (role bookkeeping events are not needed)."""
        return hasattr(cls, "_on_" + _snake(event))

    def record(self, r: int) -> RoundRecord:
        return self._rounds.setdefault(r, RoundRecord(round=r))

    def rounds(self) -> list[RoundRecord]:
        # a miner dropped for its bond leaves inside the finalizing transaction
        for tx, left in self._pending_drops:
            r = self._finalize_tx.get(tx)
            if r is not None and r == left.round:
                self.record(r).miners_dropped.append(left.account)
            else:
                self.memberships.append(left)
        self.memberships.sort(key=lambda m: m.position)
        return [self._rounds[r] for r in sorted(self._rounds)]

    def accounts(self) -> list[Address]:
        seen = {m.account for m in self.memberships}
        for record in self._rounds.values():
            seen.update(s.client for s in record.submissions)
            seen.update(record.committee)
        return sorted(seen)

    def add(self, e: DecodedEvent) -> None:
        a, pos = e.args, position(e)
        handler = getattr(self, "_on_" + _snake(e.name), None)
        if handler is not None:
            handler(e, a, pos)

    def _member(self, kind: MembershipKind, account: Any, pos: Position, **extra: int) -> None:
        self.memberships.append(Membership(kind, _address(account), pos, **extra))

    def _registered(
        self, kind: MembershipKind, account: Any, a: dict[str, Any], pos: Position, **extra: int
    ) -> None:
        self._member(kind, account, pos, amount=a["bond"], reputation=a["reputation"], **extra)

    def _on_client_registered(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self._registered(MembershipKind.CLIENT_REGISTERED, a["client"], a, pos, index=a["index"])

    def _on_miner_registered(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self._registered(MembershipKind.MINER_REGISTERED, a["miner"], a, pos)

    def _on_client_left(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self._member(MembershipKind.CLIENT_LEFT, a["client"], pos, round=a["round"])

    def _on_miner_left(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        left = Membership(MembershipKind.MINER_LEFT, _address(a["miner"]), pos, round=a["round"])
        self._pending_drops.append((e.tx_hash, left))

    def _on_bond_withdrawn(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self._member(MembershipKind.WITHDRAWN, a["account"], pos, amount=a["amount"])

    def _on_round_opened(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        rec = self.record(a["round"])
        rec.opened_at, rec.expected_submissions = a["openedAt"], a["expectedSubmissions"]
        rec.population = a["population"]
        rec.opened = pos

    def _on_committee_drawn(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        rec = self.record(a["round"])
        rec.committee = tuple(_address(m) for m in a["members"])
        rec.seed = bytes(a["seed"])

    def _on_update_submitted(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self.record(a["round"]).submissions.append(submission(e))

    def _on_votes_committed(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        commit = Commit(_address(a["miner"]), bytes(a["commitment"]), e.tx_hash)
        self.record(a["round"]).commits.append(commit)

    def _on_votes_revealed(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self.record(a["round"]).reveals.append(reveal(e))

    def _on_updates_scored(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        rec = self.record(a["round"])
        rec.scored += scored_page(e, [s.client for s in rec.submissions])

    def _on_reputation_changed(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        change = ReputationChange(_address(a["account"]), a["oldReputation"], a["newReputation"])
        self.record(a["round"]).reputation_changes.append(change)

    def _on_rewarded(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self.record(a["round"]).rewards.append(Reward(_address(a["account"]), a["amount"]))

    def _on_rewards_claimed(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self.claimed[_address(a["account"])] += int(a["amount"])

    def _on_slashed(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        slash = Slash(_address(a["miner"]), a["amount"], a["remainingBond"])
        self.record(a["round"]).slashes.append(slash)

    def _on_round_finalized(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        rec = self.record(a["round"])
        rec.finalization = finalization(e, tuple(rec.scored))
        self._finalize_tx[e.tx_hash] = int(a["round"])

    def _on_aggregate_attested(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        att = Attestation(_address(a["attester"]), bytes_to_cid(a["cid"]))
        self.record(a["round"]).attestations.append(att)

    def _on_aggregate_certified(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        self.record(a["round"]).certified = bytes_to_cid(a["cid"])

    def _on_aggregate_disputed(self, e: DecodedEvent, a: dict[str, Any], pos: Position) -> None:
        att = Attestation(_address(a["attester"]), bytes_to_cid(a["cid"]))
        self.record(a["round"]).disputes.append(att)


def _token_flows(
    transfers: Iterable[DecodedEvent],
) -> tuple[dict[Address, int], dict[Address, int]]:
    """Tokens minted to each account, and net tokens each received by plain transfers."""
    minted: dict[Address, int] = defaultdict(int)
    moved: dict[Address, int] = defaultdict(int)
    for t in transfers:
        src, dst, value = _address(t.args["from"]), _address(t.args["to"]), int(t.args["value"])
        if src == ZERO_ADDRESS:
            minted[dst] += value
            continue
        moved[src] -= value
        if dst != ZERO_ADDRESS:
            moved[dst] += value
    return dict(minted), dict(moved)


# --- gas ----------------------------------------------------------------------------

_ROUND_ARG = "round"


def _add_gas(w3: Web3, history: ProtocolHistory, events: Sequence[DecodedEvent]) -> None:
    """Sum ``gasUsed`` per round over the transactions that emitted the events.

    A transaction counts for the lowest round any of its events names (the
    finalizing transaction of round r also opens round r + 1); one naming no
    round (registration, withdrawal) counts as setup.
    """
    tx_round: dict[TxHash, int | None] = {}
    for e in events:
        r = e.args.get(_ROUND_ARG)
        current = tx_round.get(e.tx_hash)
        if r is None:
            tx_round.setdefault(e.tx_hash, None)
        elif current is None or int(r) < current:
            tx_round[e.tx_hash] = int(r)
    hashes = list(tx_round)
    gas: dict[TxHash, int] = {}
    replies = _batched(w3, [("eth_getTransactionReceipt", [h]) for h in hashes])
    for h, reply in zip(hashes, replies, strict=True):
        if isinstance(reply, RPCError) or not reply:
            raise ChainError(f"no receipt for transaction {h}: {reply}")
        gas[h] = int(reply["gasUsed"], 16)
    by_round = {rec.round: rec for rec in history.rounds}
    for h, r in tx_round.items():
        rec = by_round.get(r) if r is not None else None
        if rec is None:
            history.setup_gas += gas[h]
        else:
            rec.gas_used += gas[h]
            rec.transactions += 1
