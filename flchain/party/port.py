"""The chain as a client or miner sees it: a typed port of the calls the roles make.

    port: ChainPort = NodePort(ProtocolClient(transactor, task, me))   # a real node
    port: ChainPort = MemChain(params).port(me)                        # unit tests

Every method returns FLchain values (:class:`TxResult`, :class:`RoundInfo`,
:class:`Submission`, ...), never a node's receipts; a refused write raises
:class:`~flchain.exceptions.ContractRevertError` named after the contract's
custom error. :class:`NodePort` adapts :class:`ProtocolClient`;
:class:`~flchain.party.memchain.MemChain` enforces the same rules in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase, RoundInfo, Submission, TaskParams, TxResult
from flchain.types import Address, CIDStr


class ChainPort(Protocol):
    """One account's seat in one task: the reads and writes of the client and miner roles."""

    @property
    def account(self) -> Address: ...

    @property
    def task(self) -> Address: ...

    @property
    def chain_id(self) -> int: ...

    @property
    def task_params(self) -> TaskParams: ...

    def register_client(self) -> TxResult: ...

    def register_miner(self) -> TxResult: ...

    def current_round(self) -> int: ...

    def phase(self, round: int) -> Phase: ...

    def round_info(self, round: int) -> RoundInfo: ...

    def submissions(self, round: int) -> list[Submission]: ...

    def is_sampled(self, round: int) -> bool:
        """Whether this account is drawn to train in ``round``, the open round (every
        active client is when the task does not sample clients)."""
        ...

    def submit_update(self, round: int, cid: str, num_samples: int) -> TxResult: ...

    def committee(self, round: int) -> tuple[Address, ...]: ...

    def vote_commitment(self, round: int, scores: Sequence[int], salt: bytes) -> bytes: ...

    def commit_votes(self, round: int, commitment: bytes) -> TxResult: ...

    def reveal_votes(self, round: int, scores: Sequence[int], salt: bytes) -> TxResult: ...

    def finalize_round(self, round: int) -> TxResult:
        """Finalize ``round`` to the end, in as many pages as it takes (gas summed)."""
        ...

    def certify_aggregate(self, round: int, cid: str) -> TxResult: ...

    def claimable(self) -> int:
        """Reward tokens credited to this account and not yet claimed."""
        ...

    def claim(self) -> TxResult:
        """Mint the whole claimable reward to this account (``NothingToClaim`` when none)."""
        ...

    def accepted_updates(self, round: int) -> list[Submission]: ...

    def certified_aggregate(self, round: int) -> CIDStr | None: ...

    def mine_block(self) -> None:
        """One more (empty) block, so time-based phase ends become visible to views."""


class NodePort:
    """:class:`ChainPort` on a real node, through one account's :class:`ProtocolClient`."""

    def __init__(self, protocol: ProtocolClient) -> None:
        self.protocol = protocol

    @property
    def account(self) -> Address:
        return self.protocol.account

    @property
    def task(self) -> Address:
        return self.protocol.address

    @property
    def chain_id(self) -> int:
        return self.protocol.transactor.chain_id

    @property
    def task_params(self) -> TaskParams:
        return self.protocol.task_params

    def register_client(self) -> TxResult:
        return TxResult.from_receipt(self.protocol.register_client())

    def register_miner(self) -> TxResult:
        return TxResult.from_receipt(self.protocol.register_miner())

    def current_round(self) -> int:
        return self.protocol.current_round()

    def phase(self, round: int) -> Phase:
        return self.protocol.phase(round)

    def round_info(self, round: int) -> RoundInfo:
        return self.protocol.round_info(round)

    def submissions(self, round: int) -> list[Submission]:
        return self.protocol.submissions(round)

    def is_sampled(self, round: int) -> bool:
        return self.protocol.is_sampled(round)

    def submit_update(self, round: int, cid: str, num_samples: int) -> TxResult:
        return TxResult.from_receipt(self.protocol.submit_update(round, cid, num_samples))

    def committee(self, round: int) -> tuple[Address, ...]:
        return self.protocol.committee(round)

    def vote_commitment(self, round: int, scores: Sequence[int], salt: bytes) -> bytes:
        return self.protocol.vote_commitment(round, scores, salt)

    def commit_votes(self, round: int, commitment: bytes) -> TxResult:
        return TxResult.from_receipt(self.protocol.commit_votes(round, commitment))

    def reveal_votes(self, round: int, scores: Sequence[int], salt: bytes) -> TxResult:
        return TxResult.from_receipt(self.protocol.reveal_votes(round, scores, salt))

    def finalize_round(self, round: int) -> TxResult:
        gas = [TxResult.from_receipt(r) for r in self.protocol.finalize(round)]
        used = [g.gas_used for g in gas]
        return TxResult(sum(used), gas[-1].tx_hash, len(used), max(used))

    def certify_aggregate(self, round: int, cid: str) -> TxResult:
        return TxResult.from_receipt(self.protocol.certify_aggregate(round, cid))

    def claimable(self) -> int:
        return self.protocol.claimable()

    def claim(self) -> TxResult:
        return TxResult.from_receipt(self.protocol.claim())

    def accepted_updates(self, round: int) -> list[Submission]:
        return self.protocol.accepted_updates(round)

    def certified_aggregate(self, round: int) -> CIDStr | None:
        return self.protocol.certified_aggregate(round)

    def mine_block(self) -> None:
        self.protocol.mine_block()
