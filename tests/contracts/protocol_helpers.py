"""Helpers of the protocol tests: parameters, CIDs, time travel, acting as test accounts.

Accounts (from the node's mnemonic): 0 = admin, 1..8 = clients, 10..15 = miners.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flchain.chain.cidcodec import bytes_to_cid
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Deployment, Phase, TaskParams
from flchain.types import Address, CIDStr

if TYPE_CHECKING:
    from web3 import Web3

    from flchain.chain import Transactor

CLIENTS = range(1, 9)
MINERS = range(10, 16)


def make_cid(seed: str, version: int = 1, codec: int = 0x55) -> CIDStr:
    """A valid CID string whose digest is sha256(seed)."""
    digest = hashlib.sha256(seed.encode()).digest()
    if version == 0:
        return bytes_to_cid(b"\x12\x20" + digest)
    return bytes_to_cid(bytes([1, codec, 0x12, 0x20]) + digest)


PARAMS = TaskParams(
    initial_model_cid=make_cid("initial model"),
    spec_cid=make_cid("spec", version=0),
    rounds=20,
    committee_size=3,
    quorum=2,
    acceptance_threshold=5_000,
    submit_duration=1_000,
    commit_duration=1_000,
    reveal_duration=1_000,
    client_reward_per_round=1_000 * 10**18,
    miner_reward_per_round=300 * 10**18,
    sample_cap=1_000,
    slash_bps=1_000,
    max_updates_per_round=16,
    client_bond=10**15,
    miner_bond=10**16,
)


def vote(committee: list[ProtocolClient], round_id: int, votes: list[list[int]]) -> None:
    """Every member commits its scores (``votes[s]`` for seat ``s``), then every one reveals."""
    salts = [os.urandom(32) for _ in committee]
    for m, v, salt in zip(committee, votes, salts, strict=True):
        m.commit_votes(round_id, m.vote_commitment(round_id, v, salt))
    for m, v, salt in zip(committee, votes, salts, strict=True):
        m.reveal_votes(round_id, v, salt)


def advance(w3: Web3, seconds: int) -> None:
    """Move the node's clock forward and mine a block."""
    from flchain.chain import rpc

    rpc(w3, "evm_increaseTime", [seconds])
    rpc(w3, "evm_mine", [])


@dataclass
class Protocol:
    """A deployed protocol and a way to act as any test account."""

    deployment: Deployment
    transactor: Transactor
    w3: Web3

    def as_(self, index: int) -> ProtocolClient:
        account = self.transactor.addresses[index]
        return ProtocolClient(
            self.transactor, self.deployment.protocol, account, from_block=self.deployment.block
        )

    def address(self, index: int) -> Address:
        return self.transactor.addresses[index]

    @property
    def admin(self) -> ProtocolClient:
        return self.as_(0)

    def advance(self, seconds: int) -> None:
        advance(self.w3, seconds)

    def register(self, clients: int = 3, miners: int = 3) -> None:
        for i in list(CLIENTS)[:clients]:
            self.as_(i).register_client()
        for i in list(MINERS)[:miners]:
            self.as_(i).register_miner()

    def committee_clients(self, round: int) -> list[ProtocolClient]:
        members = self.admin.committee(round)
        by_address = {a: i for i, a in enumerate(self.transactor.addresses)}
        return [self.as_(by_address[m]) for m in members]

    def run_round(
        self, round: int, scores: Callable[[int], list[int]], clients: int = 3
    ) -> list[ProtocolClient]:
        """Submit from ``clients`` clients, commit and reveal ``scores(n)`` from the whole
        committee, finalize. Returns the committee."""
        for i in list(CLIENTS)[:clients]:
            self.as_(i).submit_update(round, make_cid(f"r{round}c{i}"), 100 * i)
        committee = self.committee_clients(round)
        n = self.admin.round_info(round).num_submissions
        salts = {m.account: os.urandom(32) for m in committee}
        for m in committee:
            m.commit_votes(round, m.vote_commitment(round, scores(n), salts[m.account]))
        for m in committee:
            m.reveal_votes(round, scores(n), salts[m.account])
        assert self.admin.phase(round) is Phase.CLOSED
        self.admin.finalize_round(round)
        return committee
