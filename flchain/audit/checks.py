"""Pure recomputations of what ``FLProtocol.finalizeRound`` decides, mirroring the contract.

Each function repeats one rule of ``FLProtocol`` (``contracts/FL*.sol``) in plain integer
arithmetic (Solidity's ``/`` is Python's ``//`` on non-negative integers):

* :func:`reveal_matches` — ``revealVotes``' check: the revealed scores and salt
  hash (``voteCommitment``) to the commitment posted in the commit phase;
* :func:`lower_median` — ``Median.lowerMedian``: ``sorted[(count - 1) // 2]``, 0 if empty;
* :func:`decide_updates` — ``_scoreUpdates``: per update the lower median of the
  revealed scores (seat order); accepted iff the reveals reach the quorum and
  the median reaches the threshold;
* :func:`client_reputation`, :func:`miner_reputation`, :func:`slashed_reputation`
  — the reputation steps and their bounds;
* :func:`client_rewards` — ``_settlement``: the round's client reward split in
  proportion to the accepted updates' medians, rounded down per update;
* :func:`miner_agreement`, :func:`miner_reward`, :func:`slash_amount` — ``_settleCommittee``;
* :func:`compare_sequence` — the effects a round emitted against those recomputed, in order;
* :func:`certify` — ``certifyAggregate``: only the round's committee attests
  (anyone else is refused); the first CID with ``quorum`` attestations is
  certified; later different attestations are disputes.

Nothing here reads the chain (the commitment hash is the chain layer's pure
:func:`flchain.chain.protocol.vote_commitment`); :mod:`flchain.audit.ledger` feeds these functions
the chain's inputs and compares their results with the chain's outputs.

Two mirrored rules live in the chain layer instead, in :mod:`flchain.chain.committee`:
the committee seed (``FLProtocol._advanceSeed`` and the deployment seed) and the
reputation-weighted draw (``FLCommittee._drawCommittee``). Both hash with keccak-256
and the seed ABI-encodes the task parameters, and only ``flchain/chain`` may import
the ``eth_*`` libraries (``tests/test_layout.py``); the history reader
(:func:`flchain.chain.history.read_history`) also fills every round's
``expected_seed`` from them. The ledger redraws each committee with
:func:`flchain.chain.committee.draw_committee` and its own reputations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

INITIAL_REPUTATION = 100
MAX_REPUTATION = 1_000_000
CLIENT_GAIN = 10
CLIENT_LOSS = 20
MINER_GAIN = 5
MINER_LOSS = 10
SLASH_LOSS = 50
BPS = 10_000


@dataclass(frozen=True)
class Discrepancy:
    """One fact where the chain and the auditor's recomputation differ.

    ``round`` is None for facts about the final state rather than one round;
    ``check`` names what was checked; ``subject`` what it was about (an update,
    an account); ``chain_value`` what the chain says; ``recomputed`` what the
    auditor computed from the chain's inputs (or the content store).
    """

    round: int | None
    check: str
    subject: str
    chain_value: Any
    recomputed: Any

    def to_json(self) -> dict[str, Any]:
        plain = {"chain_value": _plain(self.chain_value), "recomputed": _plain(self.recomputed)}
        return {**asdict(self), **plain}

    def __str__(self) -> str:
        where = f"round {self.round}" if self.round is not None else "final state"
        return (
            f"{where}: {self.check} of {self.subject}: chain says {self.chain_value!r}, "
            f"recomputed {self.recomputed!r}"
        )


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class UpdateDecision:
    """The recomputed verdict on one update."""

    index: int
    median: int
    reveals: int
    accepted: bool


@dataclass(frozen=True)
class RoundDecision:
    """The recomputed verdicts of one round."""

    decided: bool  # enough reveals for the quorum
    num_reveals: int
    updates: tuple[UpdateDecision, ...]

    @property
    def accepted(self) -> tuple[int, ...]:
        return tuple(u.index for u in self.updates if u.accepted)


def reveal_matches(
    commitment: bytes | None,
    *,
    chain_id: int,
    contract: str,
    round_id: int,
    miner: str,
    scores: Sequence[int],
    salt: bytes,
) -> bool:
    """Whether ``scores`` and ``salt`` open ``commitment`` (None: nothing was committed)."""
    from flchain.chain.protocol import vote_commitment

    if commitment is None:
        return False
    return vote_commitment(chain_id, contract, round_id, miner, scores, salt) == commitment


def lower_median(values: Sequence[int]) -> int:
    """``Median.lowerMedian``: the lower of the two middle values; 0 for no values."""
    if not values:
        return 0
    return sorted(values)[(len(values) - 1) // 2]


def decide_updates(
    num_updates: int,
    revealed: Mapping[int, Sequence[int]],
    *,
    quorum: int,
    threshold: int,
) -> RoundDecision:
    """Medians and acceptance of ``num_updates`` updates from the revealed scores.

    ``revealed`` maps a committee seat to that member's scores (one per update);
    seats are visited in increasing order, as the contract does.
    """
    seats = sorted(revealed)
    decided = len(seats) >= quorum
    updates = []
    for i in range(num_updates):
        scores = [int(revealed[s][i]) for s in seats]
        median = lower_median(scores)
        updates.append(UpdateDecision(i, median, len(scores), decided and median >= threshold))
    return RoundDecision(decided, len(seats), tuple(updates))


def client_reputation(old: int, accepted: bool) -> int:
    """A client's reputation after one decided update (+10 up to 1e6, or -20 down to 1)."""
    if accepted:
        return min(old + CLIENT_GAIN, MAX_REPUTATION)
    return old - CLIENT_LOSS if old > CLIENT_LOSS else 1


def miner_agreement(scores: Sequence[int], accepted: Sequence[bool], threshold: int) -> int:
    """How many updates a member judged as the round did (score >= threshold iff accepted)."""
    return sum(1 for s, a in zip(scores, accepted, strict=True) if (s >= threshold) == a)


def miner_reputation(old: int, agreed: int, num_updates: int) -> int:
    """A revealing member's reputation: +5 (up to 1e6) when it agreed on at least half,
    else -10 (down to 1)."""
    if agreed * 2 >= num_updates:
        return min(old + MINER_GAIN, MAX_REPUTATION)
    return old - MINER_LOSS if old > MINER_LOSS else 1


def miner_reward(reward_per_round: int, agreed: int, num_updates: int, committee: int) -> int:
    """A revealing member's tokens: ``reward * agreed / (n * k)``, rounded down."""
    return (reward_per_round * agreed) // (num_updates * committee)


def slash_amount(bond: int, slash_bps: int) -> int:
    """The part of a bond an absent member loses: ``bond * slashBps / 10000``, rounded down."""
    return (bond * slash_bps) // BPS


def slashed_reputation(old: int) -> int:
    """An absent member's reputation: -50, down to 1."""
    return old - SLASH_LOSS if old > SLASH_LOSS else 1


def client_rewards(reward_per_round: int, decisions: Sequence[UpdateDecision]) -> list[int]:
    """Each update's reward (0 when rejected): proportional to its median score (the claimed
    sample count earns nothing)."""
    if reward_per_round == 0 or not any(d.accepted for d in decisions):
        return [0] * len(decisions)
    weights = [d.median if d.accepted else 0 for d in decisions]
    total = sum(weights)
    return [
        (reward_per_round * w) // total if d.accepted else 0
        for d, w in zip(decisions, weights, strict=True)
    ]


@dataclass(frozen=True)
class Certification:
    """What a round's attestations should have produced."""

    certified: str | None
    outsiders: tuple[str, ...]  # attesters not on the committee (the contract refuses them)
    disputes: tuple[tuple[str, str], ...]  # (attester, cid) after certification, differing


def certify(
    attestations: Sequence[tuple[str, str]], committee: Sequence[str], quorum: int
) -> Certification:
    """Replay ``certifyAggregate`` over ``(attester, cid)`` pairs in chain order."""
    seats = set(committee)
    counts: dict[str, int] = {}
    certified: str | None = None
    outsiders: list[str] = []
    disputes: list[tuple[str, str]] = []
    for attester, cid in attestations:
        if attester not in seats:
            outsiders.append(attester)
            continue
        if certified is not None:
            if cid != certified:
                disputes.append((attester, cid))
            continue
        counts[cid] = counts.get(cid, 0) + 1
        if counts[cid] >= quorum:
            certified = cid
    return Certification(certified, tuple(outsiders), tuple(disputes))


def compare(
    round_id: int | None, check: str, subject: str, chain_value: Any, recomputed: Any
) -> list[Discrepancy]:
    """``[Discrepancy]`` when the two values differ, else ``[]``."""
    if chain_value == recomputed:
        return []
    return [Discrepancy(round_id, check, subject, chain_value, recomputed)]


def count_by_check(discrepancies: list[Discrepancy]) -> dict[str, int]:
    """How many discrepancies of each kind."""
    counts: dict[str, int] = defaultdict(int)
    for d in discrepancies:
        counts[d.check] += 1
    return dict(counts)


def compare_sequence(
    round_id: int, check: str, chain: Sequence[object], recomputed: Sequence[object]
) -> list[Discrepancy]:
    """Compare two ordered lists of emitted effects (reputation changes, rewards, slashes)
    element by element."""
    found: list[Discrepancy] = []
    for i in range(max(len(chain), len(recomputed))):
        got = chain[i] if i < len(chain) else None
        want = recomputed[i] if i < len(recomputed) else None
        if got != want:
            subject = getattr(got or want, "account", None) or getattr(
                got or want, "miner", f"#{i}"
            )
            found.append(Discrepancy(round_id, check, str(subject), _amounts(got), _amounts(want)))
    return found


def _amounts(effect: Any) -> object:
    """An effect's values without its account: one value alone, several as a list."""
    if effect is None:
        return None
    values = [v for k, v in asdict(effect).items() if k not in ("account", "miner")]
    return values[0] if len(values) == 1 else values
