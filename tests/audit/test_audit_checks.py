"""The pure recomputations mirror the contract's rules (unit and property tests)."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from flchain.audit.checks import (
    MAX_REPUTATION,
    Discrepancy,
    UpdateDecision,
    certify,
    client_reputation,
    client_rewards,
    compare,
    decide_updates,
    lower_median,
    miner_agreement,
    miner_reputation,
    miner_reward,
    reveal_matches,
    slash_amount,
    slashed_reputation,
)

scores = st.integers(min_value=0, max_value=10_000)


@given(st.lists(scores, min_size=1, max_size=16))
def test_lower_median_is_the_lower_middle_value(values: list[int]) -> None:
    assert lower_median(values) == statistics.median_low(values)


def test_lower_median_of_nothing_is_zero() -> None:
    assert lower_median([]) == 0


def test_decision_needs_quorum_and_threshold() -> None:
    revealed = {0: [9000, 0, 4000], 2: [8000, 100, 6000], 1: [7000, 50, 5000]}
    d = decide_updates(3, revealed, quorum=2, threshold=5000)
    assert d.decided and d.num_reveals == 3
    assert [u.median for u in d.updates] == [8000, 50, 5000]
    assert d.accepted == (0, 2)
    below_quorum = decide_updates(3, {0: [9000, 9000, 9000]}, quorum=2, threshold=5000)
    assert not below_quorum.decided
    assert below_quorum.accepted == ()
    assert [u.median for u in below_quorum.updates] == [9000, 9000, 9000]


def test_no_reveals_scores_zero_and_accepts_nothing() -> None:
    d = decide_updates(2, {}, quorum=1, threshold=1)
    assert [(u.median, u.reveals, u.accepted) for u in d.updates] == [(0, 0, False)] * 2


@given(st.integers(min_value=1, max_value=MAX_REPUTATION), st.booleans())
def test_client_reputation_stays_in_bounds(old: int, accepted: bool) -> None:
    new = client_reputation(old, accepted)
    assert 1 <= new <= MAX_REPUTATION  # never 0: a registered client's reputation is never 0
    assert (new >= old) if accepted else (new <= old)


def test_reputation_steps() -> None:
    assert client_reputation(100, True) == 110
    assert client_reputation(100, False) == 80
    assert client_reputation(15, False) == 1
    assert client_reputation(MAX_REPUTATION - 3, True) == MAX_REPUTATION
    assert miner_reputation(100, agreed=2, num_updates=4) == 105
    assert miner_reputation(100, agreed=1, num_updates=4) == 90
    assert miner_reputation(5, agreed=0, num_updates=4) == 1
    assert slashed_reputation(100) == 50
    assert slashed_reputation(30) == 1


@given(
    st.integers(min_value=1, max_value=10**24),
    st.lists(st.tuples(scores, st.booleans()), min_size=1, max_size=20),
)
def test_client_rewards_split_the_round_reward(reward: int, rows: list[tuple[int, bool]]) -> None:
    decisions = [UpdateDecision(i, m, 3, a and m > 0) for i, (m, a) in enumerate(rows)]
    paid = client_rewards(reward, decisions)
    assert all(p == 0 for p, d in zip(paid, decisions, strict=True) if not d.accepted)
    assert sum(paid) <= reward
    if any(d.accepted for d in decisions):
        assert reward - sum(paid) < len(rows)  # only rounding is lost


def test_client_rewards_are_proportional_to_the_median_score_only() -> None:
    decisions = [UpdateDecision(0, 6000, 3, True), UpdateDecision(1, 3000, 3, True)]
    assert client_rewards(630, decisions) == [420, 210]
    rejected = [UpdateDecision(0, 6000, 3, True), UpdateDecision(1, 0, 3, False)]
    assert client_rewards(630, rejected) == [630, 0]


def test_committee_settlement_amounts() -> None:
    assert miner_agreement([9000, 0, 10], [True, False, True], threshold=5000) == 2
    assert miner_reward(30 * 10**18, agreed=2, num_updates=3, committee=3) == 30 * 10**18 * 2 // 9
    assert slash_amount(10**18, 1_000) == 10**17


def test_discrepancy_is_data() -> None:
    assert compare(3, "median score", "update 1", 5000, 5000) == []
    (d,) = compare(3, "median score", "update 1", 5000, b"\x01")
    assert isinstance(d, Discrepancy)
    assert d.to_json() == {
        "round": 3,
        "check": "median score",
        "subject": "update 1",
        "chain_value": 5000,
        "recomputed": "0x01",
    }
    assert "round 3" in str(d) and "chain says 5000" in str(d)


def test_a_reveal_opens_only_its_own_commitment() -> None:
    from flchain.chain.protocol import vote_commitment

    contract, miner = "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0x" + "ab" * 20
    salt = bytes(range(32))
    commitment = vote_commitment(31337, contract, 4, miner, [10, 0, 9000], salt)
    opens = dict(chain_id=31337, contract=contract, round_id=4, miner=miner, salt=salt)
    assert reveal_matches(commitment, scores=[10, 0, 9000], **opens)  # type: ignore[arg-type]
    assert not reveal_matches(commitment, scores=[10, 0, 9001], **opens)  # type: ignore[arg-type]
    assert not reveal_matches(None, scores=[10, 0, 9000], **opens)  # type: ignore[arg-type]
    for change in ({"round_id": 5}, {"chain_id": 1}, {"salt": bytes(32)}):
        assert not reveal_matches(commitment, scores=[10, 0, 9000], **{**opens, **change})  # type: ignore[arg-type]


def test_certification_needs_a_quorum_of_committee_attestations() -> None:
    committee = ["m0", "m1", "m2"]
    c = certify([("c9", "A"), ("m0", "B"), ("m1", "A"), ("m2", "A"), ("m0", "A")], committee, 2)
    assert c.outsiders == ("c9",)  # the contract refuses a non-member: flagged, never counted
    assert c.certified == "A"  # m1 then m2: the second "A"
    assert c.disputes == ()  # m0's late "A" agrees
    late = certify([("m0", "A"), ("m1", "A"), ("m2", "B"), ("c1", "C")], committee, 2)
    assert late.certified == "A" and late.disputes == (("m2", "B"),)
    assert late.outsiders == ("c1",)
    split = certify([("m0", "A"), ("m1", "B")], committee, 2)
    assert split.certified is None and split.disputes == ()
