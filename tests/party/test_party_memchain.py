"""The in-memory chain refuses what the contract refuses, with the same custom errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from party_world import World, address

from flchain.chain.protocol_types import Phase
from flchain.exceptions import ConfigError, ContractRevertError
from flchain.party.memchain import MemChain
from flchain.party.port import ChainPort

SALT = b"\x07" * 32


def _reverts(name: str) -> pytest.RaisesContext[ContractRevertError]:
    return pytest.raises(ContractRevertError, match=rf"reverted in \w+: {name}\(")


@pytest.fixture
def chain(tmp_path: Path) -> MemChain:
    return World(tmp_path, committee_size=2, quorum=2, acceptance_threshold=5000).chain


def _seats(chain: MemChain, clients: int = 2, miners: int = 3) -> tuple[list[ChainPort], ...]:
    cs = [chain.port(address("client", i)) for i in range(clients)]
    ms = [chain.port(address("miner", j)) for j in range(miners)]
    for c in cs:
        c.register_client()
    for m in ms:
        m.register_miner()
    chain.start_training()
    return cs, ms


def _submit_all(chain: MemChain, clients: list[ChainPort]) -> None:
    initial = chain.params.initial_model_cid
    for c in clients:
        c.submit_update(0, initial, 10)


def _vote(miner: ChainPort, scores: list[int]) -> None:
    miner.commit_votes(0, miner.vote_commitment(0, scores, SALT))


def test_registration_is_once_per_role(chain: MemChain) -> None:
    port = chain.port(address("client", 0))
    assert port.register_client().gas_used > 0
    with _reverts("AlreadyRegistered"):
        port.register_client()
    port.register_miner()  # the other role is separate
    with _reverts("AlreadyRegistered"):
        port.register_miner()


def test_submissions_follow_the_phase_and_the_one_per_round_rule(chain: MemChain) -> None:
    cid = chain.params.initial_model_cid
    stranger = chain.port(address("client", 9))
    (a, b), _ = _seats(chain)
    with _reverts("NotClient"):
        stranger.submit_update(0, cid, 10)
    with _reverts("NotInPhase"):
        a.submit_update(1, cid, 10)
    a.submit_update(0, cid, 10)
    with _reverts("AlreadySubmitted"):
        a.submit_update(0, cid, 10)
    with pytest.raises(ConfigError, match="num_samples must be positive"):
        b.submit_update(0, cid, 0)
    assert a.phase(0) == Phase.SUBMIT  # one of two expected submissions
    b.submit_update(0, cid, 10)
    assert a.phase(0) == Phase.COMMIT  # everybody submitted: the phase ends early
    assert [s.client for s in a.submissions(0)] == [a.account, b.account]


def test_the_submit_phase_ends_by_time(chain: MemChain) -> None:
    (a, _), _ = _seats(chain)
    a.submit_update(0, chain.params.initial_model_cid, 10)
    chain.advance(chain.params.submit_duration - 1)
    assert a.phase(0) == Phase.SUBMIT
    chain.advance(1)
    assert a.phase(0) == Phase.COMMIT


def test_only_the_committee_commits_and_reveals_what_it_committed(chain: MemChain) -> None:
    clients, (m0, m1, m2) = _seats(chain)
    assert m0.committee(0) == (m0.account, m1.account)
    _submit_all(chain, clients)
    with _reverts("NotInCommittee"):
        _vote(m2, [1, 2])
    with _reverts("EmptyCommitment"):
        m0.commit_votes(0, bytes(32))
    _vote(m0, [9000, 9000])
    with _reverts("AlreadyCommitted"):
        _vote(m0, [9000, 9000])
    with _reverts("NotInPhase"):
        m0.reveal_votes(0, [9000, 9000], SALT)
    _vote(m1, [1000, 1000])
    assert m0.phase(0) == Phase.REVEAL
    with _reverts("WrongScoreCount"):
        m0.reveal_votes(0, [9000], SALT)
    with _reverts("CommitmentMismatch"):
        m0.reveal_votes(0, [9000, 8000], SALT)
    m0.reveal_votes(0, [9000, 9000], SALT)
    with _reverts("AlreadyRevealed"):
        m0.reveal_votes(0, [9000, 9000], SALT)


def test_finalize_takes_the_lower_median_with_a_quorum(chain: MemChain) -> None:
    clients, (m0, m1, _) = _seats(chain)
    _submit_all(chain, clients)
    _vote(m0, [9000, 4000])
    _vote(m1, [6000, 9000])
    with _reverts("NotInPhase"):
        m0.finalize_round(0)
    m0.reveal_votes(0, [9000, 4000], SALT)
    m1.reveal_votes(0, [6000, 9000], SALT)
    m0.finalize_round(0)
    # medians 6000 and 4000 against the threshold 5000
    assert [s.index for s in m0.accepted_updates(0)] == [0]
    assert (m0.phase(0), m0.current_round(), m0.phase(1)) == (Phase.FINALIZED, 1, Phase.SUBMIT)
    with _reverts("RoundAlreadyFinalized"):
        m1.finalize_round(0)


def test_finalize_credits_rewards_that_a_claim_takes_whole(chain: MemChain) -> None:
    (c0, c1), (m0, m1, _) = _seats(chain)
    _submit_all(chain, [c0, c1])
    with _reverts("NothingToClaim"):
        c0.claim()
    _vote(m0, [9000, 4000])
    _vote(m1, [6000, 9000])
    m0.reveal_votes(0, [9000, 4000], SALT)
    m1.reveal_votes(0, [6000, 9000], SALT)
    m0.finalize_round(0)
    p = chain.params
    # update 0 alone accepted; m0 agreed on both updates, m1 on one (of n * k = 4)
    owed = [c0.claimable(), c1.claimable(), m0.claimable(), m1.claimable()]
    assert owed == [
        p.client_reward_per_round,
        0,
        p.miner_reward_per_round * 2 // 4,
        p.miner_reward_per_round // 4,
    ]
    c0.claim()
    assert (c0.claimable(), chain.minted[c0.account]) == (0, p.client_reward_per_round)
    with _reverts("NothingToClaim"):
        c0.claim()
    with _reverts("NothingToClaim"):
        c1.claim()


def test_without_a_quorum_of_reveals_nothing_is_accepted(chain: MemChain) -> None:
    clients, (m0, m1, _) = _seats(chain)
    _submit_all(chain, clients)
    _vote(m0, [9000, 9000])
    _vote(m1, [9000, 9000])
    m0.reveal_votes(0, [9000, 9000], SALT)
    chain.advance(chain.params.reveal_duration)
    assert m0.phase(0) == Phase.CLOSED
    m1.finalize_round(0)
    assert m0.accepted_updates(0) == []


def test_certification_needs_a_committee_quorum(chain: MemChain) -> None:
    clients, (m0, m1, m2) = _seats(chain)
    aggregate = chain.params.spec_cid  # any valid CID stands for the aggregate here
    with _reverts("RoundNotFinalized"):
        m0.certify_aggregate(0, aggregate)
    _submit_all(chain, clients)
    chain.advance(chain.params.commit_duration + chain.params.reveal_duration)
    m2.finalize_round(0)
    with _reverts("NotAttester"):
        m2.certify_aggregate(0, aggregate)  # a miner off the committee
    clients[0].certify_aggregate(0, aggregate)  # a client's attestation is recorded only
    m0.certify_aggregate(0, aggregate)
    assert m0.certified_aggregate(0) is None
    with _reverts("AlreadyAttested"):
        m0.certify_aggregate(0, aggregate)
    m1.certify_aggregate(0, aggregate)
    assert m0.certified_aggregate(0) == aggregate
    assert m0.round_info(0).certified
