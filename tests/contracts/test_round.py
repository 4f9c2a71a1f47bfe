"""A whole round on a real Anvil node: early phase ends, scoring, rewards, certification."""

from __future__ import annotations

import os
from typing import Any

from protocol_helpers import CLIENTS, MINERS, PARAMS, Protocol, make_cid, vote

from flchain.chain import TxRequest, account_from_key
from flchain.chain.cidcodec import cid_to_bytes
from flchain.chain.protocol_types import FINALIZE_PAGE, MemberStatus, Phase


def test_phases_end_early_once_everybody_acted(proto: Protocol) -> None:
    proto.register(clients=3, miners=3)
    admin = proto.admin
    admin.start_training()
    assert admin.training_started()
    assert admin.phase(0) is Phase.SUBMIT
    info = admin.round_info(0)
    assert (info.expected_submissions, info.committee_size) == (3, 3)

    for i in (1, 2):
        proto.as_(i).submit_update(0, make_cid(f"c{i}"), 10 * i)
        assert admin.phase(0) is Phase.SUBMIT
    proto.as_(3).submit_update(0, make_cid("c3"), 30)
    assert admin.phase(0) is Phase.COMMIT  # all active clients submitted

    committee = proto.committee_clients(0)
    scores = [9_000, 2_000, 6_000]
    salts = [os.urandom(32) for _ in committee]
    for m, salt in zip(committee, salts, strict=True):
        m.commit_votes(0, m.vote_commitment(0, scores, salt))
    assert admin.phase(0) is Phase.REVEAL  # whole committee committed
    for m, salt in zip(committee, salts, strict=True):
        m.reveal_votes(0, scores, salt)
    assert admin.phase(0) is Phase.CLOSED  # all committed members revealed

    proto.as_(7).finalize_round(0)  # anyone may finalize
    assert admin.phase(0) is Phase.FINALIZED
    assert admin.current_round() == 1
    assert admin.phase(1) is Phase.SUBMIT

    outcome = admin.round_outcome(0)
    assert outcome is not None
    assert outcome.accepted == (0, 2)
    assert [u.median for u in outcome.updates] == scores
    assert [u.reveals for u in outcome.updates] == [3, 3, 3]
    assert [s.index for s in admin.accepted_updates(0)] == [0, 2]


def test_rewards_follow_the_median_score_not_the_claimed_samples(proto: Protocol) -> None:
    proto.register(clients=3, miners=3)
    proto.admin.start_training()
    # clients claim 100, 200, 300 samples; all accepted with the same score
    proto.run_round(0, lambda n: [8_000] * n)
    for i in list(CLIENTS)[:3]:
        expected = PARAMS.client_reward_per_round // 3
        assert proto.admin.claimable(proto.address(i)) == expected
        state = proto.admin.client_state(proto.address(i))
        assert state.reputation == 110
        assert state.last_submitted_round == 0


def test_a_higher_median_earns_more(proto: Protocol) -> None:
    proto.register(clients=3, miners=3)
    proto.admin.start_training()
    proto.run_round(0, lambda n: [2_000, 4_000, 2_000][:n])
    balances = [proto.admin.claimable(proto.address(i)) for i in list(CLIENTS)[:3]]
    assert balances[1] == 2 * balances[0] == 2 * balances[2]
    assert sum(balances) <= PARAMS.client_reward_per_round


def test_agreeing_miners_are_rewarded_and_gain_reputation(proto: Protocol) -> None:
    proto.register(clients=3, miners=3)
    proto.admin.start_training()
    committee = proto.run_round(0, lambda n: [9_000, 0, 7_000][:n])
    for m in committee:
        # 3 updates, all agreeing, committee of 3 -> 3 / (3 * 3) of the pool
        assert m.claimable() == PARAMS.miner_reward_per_round * 3 // 9
        assert m.miner_state().reputation == 105
    rejected = proto.admin.client_state(proto.address(2))
    assert rejected.reputation == 80
    assert proto.admin.claimable(proto.address(2)) == 0


def test_rewards_are_minted_only_when_claimed(proto: Protocol) -> None:
    proto.register(clients=3, miners=3)
    proto.admin.start_training()
    committee = proto.run_round(0, lambda n: [8_000] * n)
    proto.run_round(1, lambda n: [8_000] * n)
    client = proto.as_(1)
    owed = client.claimable()  # round 0 settled at its next submission, round 1 still pending
    assert owed == 2 * (PARAMS.client_reward_per_round // 3)
    assert client.token_balance() == 0 and client.token_supply() == 0
    rewarded = {e.args["account"] for e in client.events("Rewarded")}  # miners only: a client's
    assert client.account not in rewarded  # reward is settled in its own next transaction
    client.claim()
    assert (client.token_balance(), client.claimable()) == (owed, 0)
    (claimed,) = client.events("RewardsClaimed")
    assert (claimed.args["account"], claimed.args["amount"]) == (client.account, owed)
    for m in committee:
        m.claim()
    credited, total_claimed = client.reward_totals()
    # a decided round with acceptances grants the whole client reward; its shares round down
    assert credited == 2 * (PARAMS.client_reward_per_round + PARAMS.miner_reward_per_round)
    assert (
        total_claimed == client.token_supply() == owed + sum(m.token_balance() for m in committee)
    )


def test_certification_by_committee_quorum(proto: Protocol) -> None:
    proto.register(clients=3, miners=3)
    proto.admin.start_training()
    committee = proto.run_round(0, lambda n: [9_000] * n)
    aggregate = make_cid("aggregate 0")
    committee[0].certify_aggregate(0, aggregate)
    assert proto.admin.certified_aggregate(0) is None
    committee[1].certify_aggregate(0, aggregate)
    assert proto.admin.certified_aggregate(0) == aggregate
    assert proto.admin.round_info(0).certified

    receipt = committee[2].certify_aggregate(0, make_cid("something else"))
    logs = proto.admin.events("AggregateDisputed", 0)
    assert len(logs) == 1 and logs[0].args["attester"] == committee[2].account
    assert receipt["status"] == 1


def test_round_without_submissions_closes_empty(proto: Protocol) -> None:
    proto.register(clients=2, miners=3)
    proto.admin.start_training()
    proto.advance(PARAMS.submit_duration)
    assert proto.admin.phase(0) is Phase.CLOSED  # no submissions: no commit or reveal phase
    proto.admin.finalize_round(0)
    outcome = proto.admin.round_outcome(0)
    assert outcome is not None and outcome.accepted == () and outcome.num_submissions == 0
    for m in proto.committee_clients(0):
        assert m.miner_state().bond == PARAMS.miner_bond  # nothing was asked of them


def test_vanished_committee_is_slashed_and_round_closes_by_time(proto: Protocol) -> None:
    proto.register(clients=2, miners=3)
    proto.admin.start_training()
    proto.as_(1).submit_update(0, make_cid("a"), 10)
    proto.as_(2).submit_update(0, make_cid("b"), 10)
    committee = proto.committee_clients(0)
    salt = os.urandom(32)
    committee[0].commit_votes(0, committee[0].vote_commitment(0, [9_000, 9_000], salt))
    proto.advance(PARAMS.commit_duration)
    assert proto.admin.phase(0) is Phase.REVEAL
    proto.advance(PARAMS.reveal_duration)
    assert proto.admin.phase(0) is Phase.CLOSED
    proto.admin.finalize_round(0)
    outcome = proto.admin.round_outcome(0)
    assert outcome is not None and outcome.accepted == () and outcome.num_reveals == 0
    slashed = PARAMS.miner_bond * PARAMS.slash_bps // 10_000
    for m in committee:  # one committed without revealing, two did nothing
        state = m.miner_state()
        assert state.bond == PARAMS.miner_bond - slashed
        assert state.reputation == 50
        assert state.status is MemberStatus.LEFT  # bond below the minimum: deactivated
    assert proto.admin.miners() == ()


def test_many_updates_and_a_large_committee(deploy_with: Any) -> None:
    """Scores pack 16 per word: 20 updates span two words; 5 of 6 miners sit on the committee."""
    p: Protocol = deploy_with(committee_size=5, quorum=3, max_updates_per_round=32)
    tx = p.transactor
    clients = [tx.add_account(account_from_key(os.urandom(32))) for _ in range(20)]
    tx.transact_many([TxRequest(p.address(0), c, b"", 10**18) for c in clients])
    register = p.admin.abi.encode_call("registerClient")
    target = p.deployment.protocol
    tx.transact_many([TxRequest(c, target, register, PARAMS.client_bond) for c in clients])
    for i in MINERS:
        p.as_(i).register_miner()
    p.admin.start_training()
    assert p.admin.round_info(0).expected_submissions == 20
    calls = [
        p.admin.abi.encode_call("submitUpdate", 0, cid_to_bytes(make_cid(f"m{i}")), 1 + i)
        for i in range(20)
    ]
    submit = [TxRequest(c, target, data) for c, data in zip(clients, calls, strict=True)]
    tx.transact_many(submit)
    assert p.admin.phase(0) is Phase.COMMIT
    committee = p.committee_clients(0)
    assert len(committee) == 5
    # member s scores update i as (i * 500 + s * 1_000) % 10_001
    votes = [[(i * 500 + s * 1_000) % 10_001 for i in range(20)] for s in range(5)]
    vote(committee, 0, votes)
    p.admin.finalize_round(0)
    outcome = p.admin.round_outcome(0)
    assert outcome is not None
    medians = [sorted(v[i] for v in votes)[2] for i in range(20)]
    assert [u.median for u in outcome.updates] == medians
    assert outcome.accepted == tuple(i for i, m in enumerate(medians) if m >= 5_000)
    assert [u.client for u in outcome.updates] == clients


def test_a_large_round_finalizes_in_pages(deploy_with: Any) -> None:
    """150 updates: two pages of at most FINALIZE_PAGE."""
    n = 150
    p: Protocol = deploy_with(max_updates_per_round=n)
    (page,) = p.admin._view("FINALIZE_PAGE")
    assert page == FINALIZE_PAGE < n
    tx = p.transactor
    clients = [tx.add_account(account_from_key(os.urandom(32))) for _ in range(n)]
    tx.transact_many([TxRequest(p.address(0), c, b"", 10**18) for c in clients])
    register = p.admin.abi.encode_call("registerClient")
    target = p.deployment.protocol
    tx.transact_many([TxRequest(c, target, register, PARAMS.client_bond) for c in clients])
    p.register(clients=0, miners=3)
    p.admin.start_training()
    calls = [
        p.admin.abi.encode_call("submitUpdate", 0, cid_to_bytes(make_cid(f"p{i}")), 1 + i)
        for i in range(n)
    ]
    tx.transact_many([TxRequest(c, target, d) for c, d in zip(clients, calls, strict=True)])
    committee = p.committee_clients(0)
    votes = [[(i * 731 + s * 1_000) % 10_001 for i in range(n)] for s in range(3)]
    vote(committee, 0, votes)
    p.admin.finalize_round(0)
    assert p.admin.phase(0) is Phase.CLOSED and p.admin.round_outcome(0) is None
    assert p.admin.finalization_progress(0) == (page, n)
    receipts = p.as_(7).finalize(0)  # anyone pages on, to the end
    assert len(receipts) == 1 and p.admin.phase(0) is Phase.FINALIZED
    assert p.admin.finalization_progress(0) == (n, n)
    outcome = p.admin.round_outcome(0)
    assert outcome is not None
    medians = [sorted(v[i] for v in votes)[1] for i in range(n)]
    assert [u.median for u in outcome.updates] == medians
    assert outcome.accepted == tuple(i for i, m in enumerate(medians) if m >= 5_000)
    assert outcome.num_accepted == len(outcome.accepted)
    assert [u.client for u in outcome.updates] == clients
    total = sum(m for m in medians if m >= 5_000)
    for i in outcome.accepted[:5]:
        expected = PARAMS.client_reward_per_round * medians[i] // total
        assert p.admin.claimable(clients[i]) == expected
