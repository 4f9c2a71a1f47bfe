"""Replaying the protocol's bookkeeping from the chain's inputs, and comparing.

The :class:`Ledger` walks a :class:`ProtocolHistory` in chain order: it applies
registrations, departures and withdrawals as they happened; when a round opens
it checks the emitted seed against the one derived from the task parameters and
the salts revealed before (no block data enters a draw) and redraws the
committee from it with its own reputations, and redraws the clients sampled to
train in it (every submitter must be one); when a
round is finalized it checks every reveal against its commitment, recomputes
the medians and acceptances (:mod:`flchain.audit.checks`), the reputation
changes, rewards credited and slashes, applies them to its own books and compares
the committee's with what the chain emitted (a client's are applied lazily, in its
own next transaction, and emit nothing). At the end its books are compared with the
contract's state (reputations, bonds, claimable rewards and their totals; the views
count a client's last update once its round is finalized) and the token's balances
and supply: tokens are minted only by claims, so every account's claimable reward
is what it was credited minus what it claimed.

Everything the auditor computes starts from the chain's *inputs* (who
registered with what, scores revealed, samples claimed), never from the
chain's outputs, so a wrong output shows up as a :class:`Discrepancy`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flchain.audit.checks import (
    INITIAL_REPUTATION,
    Discrepancy,
    RoundDecision,
    certify,
    client_reputation,
    client_rewards,
    compare,
    compare_sequence,
    decide_updates,
    miner_agreement,
    miner_reputation,
    miner_reward,
    slash_amount,
    slashed_reputation,
)
from flchain.chain.history import (
    Membership,
    MembershipKind,
    ProtocolHistory,
    ReputationChange,
    Reward,
    RoundRecord,
    Slash,
    draw_committee,
)
from flchain.chain.protocol import vote_commitment
from flchain.chain.protocol_types import MemberStatus
from flchain.chain.sampling import is_sampled
from flchain.types import Address


@dataclass
class Account:
    """The auditor's books for one account (client role and miner role)."""

    client_status: MemberStatus = MemberStatus.NONE
    client_bond: int = 0
    client_rep: int = 0
    client_seen: bool = False
    client_index: int = -1  # place in the sampling population, from its last registration
    miner_status: MemberStatus = MemberStatus.NONE
    miner_bond: int = 0
    miner_rep: int = 0


@dataclass
class Settlement:
    """What finalizing a round should have emitted, in the contract's order."""

    reputation: list[ReputationChange] = field(default_factory=list)
    rewards: list[Reward] = field(default_factory=list)
    slashes: list[Slash] = field(default_factory=list)
    dropped: list[Address] = field(default_factory=list)


@dataclass
class LedgerResult:
    """Recomputed decisions per round, discrepancies, and reputations after each round."""

    decisions: dict[int, RoundDecision]
    discrepancies: list[Discrepancy]
    client_reputation: dict[int, dict[Address, int]]  # round -> client -> reputation after it
    miner_reputation: dict[int, dict[Address, int]]
    rewards: dict[Address, int]  # recomputed tokens earned, per account


class Ledger:
    """The auditor's own books of a task, kept from the chain's inputs."""

    def __init__(self, history: ProtocolHistory) -> None:
        self.h = history
        self.p = history.params
        self.accounts: dict[Address, Account] = defaultdict(Account)
        self.pool: list[Address] = []
        self.population = 0  # client registrations so far
        self.earned: dict[Address, int] = defaultdict(int)
        self.granted = 0  # what finalization granted: each round's client reward and the miners'
        self.out: list[Discrepancy] = []

    # --- the walk -------------------------------------------------------------------

    def replay(self) -> LedgerResult:
        """Walk the history in chain order; return what was recomputed and found."""
        steps: list[tuple[tuple[int, int], int, object]] = []
        for m in self.h.memberships:
            steps.append((m.position, 0, m))
        for rec in self.h.rounds:
            if rec.opened is not None:
                steps.append((rec.opened, 1, rec))
            if rec.finalization is not None:
                steps.append((rec.finalization.position, 2, rec))
        steps.sort(key=lambda s: (s[0], s[1]))
        decisions: dict[int, RoundDecision] = {}
        client_reps: dict[int, dict[Address, int]] = {}
        miner_reps: dict[int, dict[Address, int]] = {}
        for _, kind, item in steps:
            if kind == 0:
                assert isinstance(item, Membership)
                self.apply(item)
            elif kind == 1:
                assert isinstance(item, RoundRecord)
                self.open_round(item)
            else:
                assert isinstance(item, RoundRecord)
                decisions[item.round] = self.finalize(item)
                client_reps[item.round] = self.reputations(miner=False)
                miner_reps[item.round] = self.reputations(miner=True)
        self.final_state()
        return LedgerResult(decisions, self.out, client_reps, miner_reps, dict(self.earned))

    def reputations(self, *, miner: bool) -> dict[Address, int]:
        if miner:
            return {
                a: x.miner_rep
                for a, x in self.accounts.items()
                if x.miner_status != MemberStatus.NONE
            }
        return {a: x.client_rep for a, x in self.accounts.items() if x.client_seen}

    # --- membership -------------------------------------------------------------------

    def apply(self, m: Membership) -> None:
        """Apply a registration, departure or withdrawal made by a party."""
        acc = self.accounts[m.account]
        if m.kind == MembershipKind.CLIENT_REGISTERED:
            if not acc.client_seen:
                acc.client_seen, acc.client_rep = True, INITIAL_REPUTATION
            acc.client_index, self.population = self.population, self.population + 1
            self.out += compare(None, "client index", m.account, m.index, acc.client_index)
            self.out += compare(
                None, "client reputation at registration", m.account, m.reputation, acc.client_rep
            )
            acc.client_status, acc.client_bond = MemberStatus.ACTIVE, m.amount
        elif m.kind == MembershipKind.MINER_REGISTERED:
            if acc.miner_rep == 0:
                acc.miner_rep = INITIAL_REPUTATION
            self.out += compare(
                None, "miner reputation at registration", m.account, m.reputation, acc.miner_rep
            )
            acc.miner_status, acc.miner_bond = MemberStatus.ACTIVE, m.amount
            self.pool.append(m.account)
        elif m.kind == MembershipKind.CLIENT_LEFT:
            acc.client_status = MemberStatus.LEFT
        elif m.kind == MembershipKind.MINER_LEFT:
            self._deactivate(m.account)
        elif m.kind == MembershipKind.WITHDRAWN:
            expected = (acc.client_bond if acc.client_status == MemberStatus.LEFT else 0) + (
                acc.miner_bond if acc.miner_status == MemberStatus.LEFT else 0
            )
            self.out += compare(None, "bond withdrawn", m.account, m.amount, expected)
            if acc.client_status == MemberStatus.LEFT:
                acc.client_status, acc.client_bond = MemberStatus.NONE, 0
            if acc.miner_status == MemberStatus.LEFT:
                acc.miner_status, acc.miner_bond = MemberStatus.NONE, 0

    def _deactivate(self, miner: Address) -> None:
        """``_deactivateMiner``: status Left, swap-and-pop out of the pool."""
        self.accounts[miner].miner_status = MemberStatus.LEFT
        if miner in self.pool:
            i = self.pool.index(miner)
            self.pool[i] = self.pool[-1]
            self.pool.pop()

    # --- rounds ---------------------------------------------------------------------

    def open_round(self, rec: RoundRecord) -> None:
        """Check the seed against the one derived from the task and earlier reveals; redraw the
        committee from it."""
        if rec.expected_seed is not None:
            self.out += compare(
                rec.round, "committee seed", "committee", rec.seed, rec.expected_seed
            )
        weights = [self.accounts[a].miner_rep for a in self.pool]
        drawn = draw_committee(rec.seed, self.pool, weights, self.p.committee_size)
        self.out += compare(
            rec.round, "committee draw", "committee", list(rec.committee), list(drawn)
        )
        self.check_sample(rec)

    def check_sample(self, rec: RoundRecord) -> None:
        """The round's population is every client registered so far, and each submitter was
        drawn from it (``ClientSample``, from the round's seed)."""
        r, per_round = rec.round, self.p.clients_per_round
        self.out += compare(r, "sampling population", "round", rec.population, self.population)
        for sub in rec.submissions:
            index = self.accounts[sub.client].client_index
            if not is_sampled(rec.seed, self.population, per_round, index):
                self.out.append(
                    Discrepancy(r, "submitter sampled", sub.client, "submitted", "not sampled")
                )

    def finalize(self, rec: RoundRecord) -> RoundDecision:
        """Recompute ``finalizeRound(rec.round)``, compare, and apply it to our books."""
        r, final = rec.round, rec.finalization
        assert final is not None
        n = len(rec.submissions)
        self.out += compare(r, "number of submissions", "round", final.num_submissions, n)
        revealed = self.check_votes(rec, n)
        decision = decide_updates(
            n, revealed, quorum=self.p.quorum, threshold=self.p.acceptance_threshold
        )
        self.out += compare(
            r, "number of reveals", "round", final.num_reveals, decision.num_reveals
        )
        self.compare_decision(rec, decision)
        s = self.settle(rec, decision, revealed)
        self.out += compare_sequence(r, "reputation change", rec.reputation_changes, s.reputation)
        self.out += compare_sequence(r, "reward", rec.rewards, s.rewards)
        self.out += compare_sequence(r, "slash", rec.slashes, s.slashes)
        self.out += compare(
            r, "miners dropped for their bond", "committee", rec.miners_dropped, s.dropped
        )
        self.check_certification(rec)
        return decision

    def check_certification(self, rec: RoundRecord) -> None:
        """Who attested (committee only), which CID reached the quorum, which were disputes."""
        r = rec.round
        pairs = [(a.attester, str(a.cid)) for a in rec.attestations]
        c = certify(pairs, rec.committee, self.p.quorum)
        for outsider in c.outsiders:
            self.out.append(
                Discrepancy(
                    r, "attestation by a committee member", outsider, "attested", "not in committee"
                )
            )
        self.out += compare(r, "certified by quorum", "aggregate", rec.certified, c.certified)
        disputes = [[d.attester, str(d.cid)] for d in rec.disputes]
        self.out += compare(
            r, "disputed attestations", "aggregate", disputes, [list(d) for d in c.disputes]
        )

    def check_votes(self, rec: RoundRecord, n: int) -> dict[int, tuple[int, ...]]:
        """Check each reveal against its commitment; return the valid reveals by seat."""
        r = rec.round
        commits = {c.miner: c.commitment for c in rec.commits}
        for c in rec.commits:
            if c.miner not in rec.committee:
                self.out.append(
                    Discrepancy(
                        r, "commit by a committee member", c.miner, "committed", "not in committee"
                    )
                )
        revealed: dict[int, tuple[int, ...]] = {}
        for v in rec.reveals:
            if v.miner not in rec.committee:
                self.out.append(
                    Discrepancy(
                        r, "reveal by a committee member", v.miner, "revealed", "not in committee"
                    )
                )
                continue
            committed = commits.get(v.miner)
            ours = vote_commitment(self.h.chain_id, self.h.protocol, r, v.miner, v.scores, v.salt)
            if committed is None or ours != committed:
                self.out.append(
                    Discrepancy(r, "reveal matches commitment", v.miner, committed, ours)
                )
            if len(v.scores) != n:  # the contract refuses such a reveal: leave it out
                self.out.append(
                    Discrepancy(r, "number of scores revealed", v.miner, len(v.scores), n)
                )
                continue
            revealed[rec.committee.index(v.miner)] = v.scores
        return revealed

    def compare_decision(self, rec: RoundRecord, decision: RoundDecision) -> None:
        r, final = rec.round, rec.finalization
        assert final is not None
        by_index = {s.index: s for s in rec.scored}
        for u in decision.updates:
            chain = by_index.get(u.index)
            subject = f"update {u.index}"
            if chain is None:
                self.out.append(Discrepancy(r, "update scored", subject, None, "scored"))
                continue
            self.out += compare(r, "median score", subject, chain.median, u.median)
            self.out += compare(r, "reveals counted", subject, chain.reveals, u.reveals)
            self.out += compare(r, "acceptance", subject, chain.accepted, u.accepted)
        self.out += compare(
            r, "accepted set", "round", list(final.accepted), list(decision.accepted)
        )
        self.out += compare(
            r, "number accepted", "round", final.num_accepted, len(decision.accepted)
        )

    def settle(
        self, rec: RoundRecord, d: RoundDecision, revealed: dict[int, tuple[int, ...]]
    ) -> Settlement:
        """Reputations, rewards and slashes of a finalized round, applied to our books; the
        committee's are returned, to compare with its events (a client's emit none)."""
        out = Settlement()
        n, k, p = len(rec.submissions), len(rec.committee), self.p
        if d.decided:
            for sub, u in zip(rec.submissions, d.updates, strict=True):
                acc = self.accounts[sub.client]
                acc.client_rep = client_reputation(acc.client_rep, u.accepted)
        amounts = client_rewards(p.client_reward_per_round, d.updates)
        for sub, amount in zip(rec.submissions, amounts, strict=True):
            self.earned[sub.client] += amount
        if any(u.accepted for u in d.updates):
            self.granted += p.client_reward_per_round  # the shares round down: dust stays
        if n == 0:
            return out
        accepted = [u.accepted for u in d.updates]
        for seat, miner in enumerate(rec.committee):
            acc = self.accounts[miner]
            if seat in revealed:
                if not d.decided:
                    continue
                agreed = miner_agreement(revealed[seat], accepted, p.acceptance_threshold)
                new = miner_reputation(acc.miner_rep, agreed, n)
                out.reputation.append(ReputationChange(miner, acc.miner_rep, new))
                acc.miner_rep = new
                amount = miner_reward(p.miner_reward_per_round, agreed, n, k)
                if amount:
                    out.rewards.append(Reward(miner, amount))
                    self.earned[miner] += amount
                    self.granted += amount
            else:
                cut = slash_amount(acc.miner_bond, p.slash_bps)
                acc.miner_bond -= cut
                out.slashes.append(Slash(miner, cut, acc.miner_bond))
                new = slashed_reputation(acc.miner_rep)
                out.reputation.append(ReputationChange(miner, acc.miner_rep, new))
                acc.miner_rep = new
                if acc.miner_status == MemberStatus.ACTIVE and acc.miner_bond < p.miner_bond:
                    self._deactivate(miner)
                    out.dropped.append(miner)
        return out

    # --- final state ----------------------------------------------------------------

    def final_state(self) -> None:
        """Compare our books with the contract's records and the token's balances."""
        h = self.h
        for a, state in h.clients.items():
            acc = self.accounts.get(a, Account())
            self.out += compare(None, "client reputation", a, state.reputation, acc.client_rep)
            self.out += compare(None, "client bond", a, state.bond, acc.client_bond)
        for a, miner in h.miners.items():
            acc = self.accounts.get(a, Account())
            self.out += compare(None, "miner reputation", a, miner.reputation, acc.miner_rep)
            self.out += compare(None, "miner bond", a, miner.bond, acc.miner_bond)
        # Rewards are credited by finalization (a client's when settled; the views count a
        # due update) and minted only by claims: per account, claimable == credited - claimed,
        # minted == claimed; the supply is every claim.
        claimed_total = sum(h.claimed.values())
        for a in sorted({*h.balances, *self.earned, *h.claimed, *h.claimable}):
            earned, claimed = self.earned.get(a, 0), h.claimed.get(a, 0)
            self.out += compare(None, "reward tokens minted", a, h.minted.get(a, 0), claimed)
            self.out += compare(
                None, "claimable reward", a, h.claimable.get(a, 0), earned - claimed
            )
            expected = claimed + h.transferred.get(a, 0)
            self.out += compare(None, "reward token balance", a, h.balances.get(a, 0), expected)
        self.out += compare(None, "token supply", "token", h.token_supply, claimed_total)
        self.out += compare(None, "rewards credited", "protocol", h.total_credited, self.granted)
        self.out += compare(None, "rewards claimed", "protocol", h.total_claimed, claimed_total)


def replay(history: ProtocolHistory) -> LedgerResult:
    """Replay ``history`` with a fresh :class:`Ledger`."""
    return Ledger(history).replay()
