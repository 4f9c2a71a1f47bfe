"""Committee draws no transaction timing can grind, re-derived off chain from the task alone.

The same history is played twice from one snapshot, once with the round-opening
transactions sent blocks and hours later: the blocks differ, the committees do not.
"""

from __future__ import annotations

import hashlib
from typing import Any

from protocol_helpers import CLIENTS, Protocol, make_cid

from flchain.chain import rpc
from flchain.chain.committee import initial_seed, next_seed
from flchain.chain.history import read_history
from flchain.chain.protocol_types import Phase

ROUNDS = 3


def _salt(account: str, round: int) -> bytes:
    return hashlib.sha256(f"{account}/{round}".encode()).digest()


def _play(p: Protocol, delay: int) -> tuple[list[tuple[str, ...]], list[bytes], list[str]]:
    """Run ROUNDS rounds with fixed inputs; wait ``delay`` seconds (and blocks) before each
    round-opening transaction. Returns committees, seeds and the opening blocks' hashes."""

    def stall() -> None:
        if delay:
            rpc(p.w3, "evm_setNextBlockTimestamp", [p.w3.eth.get_block("latest")["timestamp"] + 7])
            rpc(p.w3, "evm_mine", [])
            rpc(p.w3, "evm_increaseTime", [delay])
            rpc(p.w3, "evm_mine", [])

    stall()
    p.admin.start_training()
    for r in range(ROUNDS):
        for i in list(CLIENTS)[:3]:
            p.as_(i).submit_update(r, make_cid(f"r{r}c{i}"), 100 * i)
        members = p.committee_clients(r)
        scores = [9_000, 9_000, 100]
        for m in members:
            m.commit_votes(r, m.vote_commitment(r, scores, _salt(m.account, r)))
        for m in members[:-1]:  # the last seat withholds: slashed, its salt left out
            m.reveal_votes(r, scores, _salt(m.account, r))
        p.advance(10_000)
        assert p.admin.phase(r) is Phase.CLOSED
        stall()
        p.admin.finalize_round(r)
    drawn = p.admin.events("CommitteeDrawn")
    blocks = [p.w3.eth.get_block(e.block_number)["hash"].hex() for e in drawn]
    return [tuple(e.args["members"]) for e in drawn], [bytes(e.args["seed"]) for e in drawn], blocks


def test_opening_time_does_not_choose_the_committee(deploy_with: Any) -> None:
    p: Protocol = deploy_with(rounds=ROUNDS + 1)
    p.register(clients=3, miners=6)
    snapshot = rpc(p.w3, "evm_snapshot", [])
    prompt = _play(p, 0)
    rpc(p.w3, "evm_revert", [snapshot])
    p.transactor.resync_nonces()
    late = _play(p, 3 * 3_600)

    assert len(prompt[0]) == ROUNDS + 1
    assert set(prompt[2]).isdisjoint(late[2])  # every opening block differs...
    assert late[0] == prompt[0]  # ...and yet every committee and seed is the same
    assert late[1] == prompt[1]
    assert len(set(prompt[0])) > 1  # and the draw does change from round to round


def test_seeds_and_draws_are_rederived_from_the_task_and_the_reveals(deploy_with: Any) -> None:
    p: Protocol = deploy_with(rounds=ROUNDS + 1)
    p.register(clients=3, miners=6)
    committees, seeds, _ = _play(p, 0)
    d = p.deployment
    assert seeds[0] == initial_seed(d.chain_id, d.protocol, p.admin.task_params)
    history = read_history(p.w3, d.protocol, from_block=d.block)
    for rec, seed, members in zip(history.rounds, seeds, committees, strict=True):
        assert rec.seed == seed == rec.expected_seed
        assert rec.committee == members
    # round 1's seed folds exactly round 0's revealed salts, in seat order
    salts = [_salt(m, 0) for m in committees[0][:-1]]
    assert seeds[1] == next_seed(seeds[0], 0, salts)
    assert seeds[1] != next_seed(seeds[0], 0, salts[::-1])
