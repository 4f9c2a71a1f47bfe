"""One account's :class:`~flchain.party.port.ChainPort` on an in-memory chain.

    port = MemChain(params).port(address)   # a MemPort

Every call takes the chain's lock, so parties may run in threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flchain.chain.protocol_types import Phase, RoundInfo, Submission, TxResult
from flchain.party.memchain import TASK
from flchain.types import Address, CIDStr

if TYPE_CHECKING:
    from flchain.party.memchain import MemChain


class MemPort:
    """One account's :class:`ChainPort` on a :class:`MemChain`."""

    def __init__(self, chain: MemChain, account: Address) -> None:
        self.chain = chain
        self.account = account
        self.task = TASK
        self.chain_id = chain.chain_id
        self.task_params = chain.params

    def register_client(self) -> TxResult:
        with self.chain.lock:
            return self.chain.register(self.account, miner=False)

    def register_miner(self) -> TxResult:
        with self.chain.lock:
            return self.chain.register(self.account, miner=True)

    def current_round(self) -> int:
        with self.chain.lock:
            return self.chain.current

    def phase(self, round: int) -> Phase:
        with self.chain.lock:
            return self.chain.phase_of(round)

    def round_info(self, round: int) -> RoundInfo:
        with self.chain.lock:
            return self.chain.info(round)

    def submissions(self, round: int) -> list[Submission]:
        with self.chain.lock:
            rd = self.chain.rounds.get(round)
            return list(rd.submissions) if rd else []

    def is_sampled(self, round: int) -> bool:
        with self.chain.lock:
            return self.chain.sampled(round, self.account)

    def submit_update(self, round: int, cid: str, num_samples: int) -> TxResult:
        with self.chain.lock:
            return self.chain.submit(self.account, round, cid, num_samples)

    def committee(self, round: int) -> tuple[Address, ...]:
        with self.chain.lock:
            rd = self.chain.rounds.get(round)
            return rd.committee if rd else ()

    def vote_commitment(self, round: int, scores: Sequence[int], salt: bytes) -> bytes:
        return self.chain.commitment(round, self.account, scores, salt)

    def commit_votes(self, round: int, commitment: bytes) -> TxResult:
        with self.chain.lock:
            return self.chain.commit(self.account, round, commitment)

    def reveal_votes(self, round: int, scores: Sequence[int], salt: bytes) -> TxResult:
        with self.chain.lock:
            return self.chain.reveal(self.account, round, scores, salt)

    def finalize_round(self, round: int) -> TxResult:
        with self.chain.lock:
            return self.chain.finalize(round)

    def certify_aggregate(self, round: int, cid: str) -> TxResult:
        with self.chain.lock:
            return self.chain.certify(self.account, round, cid)

    def claimable(self) -> int:
        with self.chain.lock:
            return self.chain.owed.get(self.account, 0)

    def claim(self) -> TxResult:
        with self.chain.lock:
            return self.chain.claim(self.account)

    def accepted_updates(self, round: int) -> list[Submission]:
        with self.chain.lock:
            rd = self.chain.rounds.get(round)
            if rd is None or rd.accepted is None:
                return []
            return [s for s in rd.submissions if s.index in rd.accepted]

    def certified_aggregate(self, round: int) -> CIDStr | None:
        with self.chain.lock:
            rd = self.chain.rounds.get(round)
            return rd.certified if rd else None

    def mine_block(self) -> None:
        with self.chain.lock:
            self.chain.block += 1
            self.chain.empty_blocks += 1
