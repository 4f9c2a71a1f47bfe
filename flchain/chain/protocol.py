"""Typed client of the FLchain protocol contract.

    deployment = deploy_protocol(transactor, admin, TaskParams(initial_cid, spec_cid))
    me = ProtocolClient(transactor, deployment.protocol, my_address, from_block=deployment.block)
    me.register_client()
    me.submit_update(me.current_round(), "bafy...", num_samples=600)

Writes return the mined receipt; a revert raises :class:`ContractRevertError`
whose ``name`` is the contract's custom error. Reads of history (submissions,
committees, outcomes) come from the contract's event logs, the rest from views.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import TxReceipt

from flchain.chain.cidcodec import bytes_to_cid, cid_to_bytes
from flchain.chain.connection import rpc
from flchain.chain.deploy import protocol_abi, token_abi
from flchain.chain.events import DecodedEvent, iter_logs
from flchain.chain.history_types import Finalization, finalization, scored_page, submission
from flchain.chain.protocol_types import (
    ClientState,
    MemberStatus,
    MinerState,
    Phase,
    RoundInfo,
    Submission,
    TaskParams,
)
from flchain.chain.transactor import Transactor
from flchain.exceptions import ConfigError, ContractRevertError, TransactionFailedError
from flchain.types import MAX_SCORE, Address, CIDStr

CERTIFY_GAS = 250_000
"""Gas limit of ``certifyAggregate`` (see :meth:`ProtocolClient.certify_aggregate`)."""
TX_GAS_BUDGET = 5_000_000
"""The protocol's stated bound on any one transaction (docs/protocol.md; every finalize page
stays within it, checked by ``contracts/test/FLFinalizePages.t.sol``): the gas limit of a page."""


def vote_commitment(
    chain_id: int, contract: str, round: int, miner: str, scores: Sequence[int], salt: bytes
) -> bytes:
    """The vote commitment ``FLProtocol.revealVotes`` checks: keccak256(abi.encode(chainid,
    contract, round, miner, uint16[] scores, bytes32 salt))."""
    check_scores(scores)
    if len(salt) != 32:
        raise ConfigError(f"salt must be 32 bytes, got {len(salt)}")
    payload = encode(
        ["uint256", "address", "uint256", "address", "uint16[]", "bytes32"],
        [chain_id, contract, round, miner, list(scores), salt],
    )
    return bytes(keccak(payload))


def check_scores(scores: Sequence[int]) -> None:
    """Raise ConfigError unless every score is an int in 0..10000."""
    for i, s in enumerate(scores):
        if not isinstance(s, int) or not 0 <= s <= MAX_SCORE:
            raise ConfigError(f"score #{i} is {s!r}; scores are integers 0..{MAX_SCORE}")


class ProtocolClient:
    """One account's view of, and calls into, a deployed ``FLProtocol``."""

    def __init__(
        self, transactor: Transactor, address: str, account: Address, *, from_block: int = 0
    ) -> None:
        try:
            self.address = Address(Web3.to_checksum_address(address))
        except ValueError as exc:
            raise ConfigError(f"not a contract address: {address!r}") from exc
        self.transactor = transactor
        self.account = Address(Web3.to_checksum_address(account))
        self.from_block = from_block
        self.abi = protocol_abi()
        self._token_abi = token_abi()
        transactor.register_errors(self.abi.abi)
        transactor.register_errors(self._token_abi.abi)

    # --- plumbing ------------------------------------------------------------

    def _send(self, fn: str, *args: Any, value: int = 0, gas: int | None = None) -> TxReceipt:
        data = self.abi.encode_call(fn, *args)
        return self.transactor.transact(self.account, self.address, data, value=value, gas=gas)

    def _view(self, fn: str, *args: Any) -> tuple[Any, ...]:
        data = self.transactor.call(self.address, self.abi.encode_call(fn, *args))
        return self.abi.decode_result(fn, data)

    def events(self, event: str, *indexed: int | str) -> list[DecodedEvent]:
        """This task's ``event`` logs (filtered by its first indexed arguments), in chain order."""
        w3, abi = self.transactor.w3, self.abi.abi
        return list(iter_logs(w3, self.address, abi, [event], self.from_block, indexed=indexed))

    # --- registration and bonds ------------------------------------------------

    def register_client(self, bond: int | None = None) -> TxReceipt:
        """Register as a client, locking ``bond`` wei (default: the minimum)."""
        value = self.task_params.client_bond if bond is None else bond
        return self._send("registerClient", value=value)

    def register_miner(self, bond: int | None = None) -> TxReceipt:
        """Register as a miner, locking ``bond`` wei (default: the minimum)."""
        value = self.task_params.miner_bond if bond is None else bond
        return self._send("registerMiner", value=value)

    def leave(self) -> TxReceipt:
        """Leave every role; the bond unlocks once the current round is finalized."""
        return self._send("deregister")

    def withdraw(self) -> TxReceipt:
        """Pull back the bond(s) of roles left in an already finalized round."""
        return self._send("withdraw")

    def claim(self) -> TxReceipt:
        """Mint this account's whole claimable reward to it (``NothingToClaim`` when none)."""
        return self._send("claim")

    def start_training(self) -> TxReceipt:
        """Open round 0 (admin only)."""
        return self._send("startTraining")

    # --- a round -----------------------------------------------------------

    def submit_update(self, round: int, cid: str, num_samples: int) -> TxReceipt:
        """Submit the CID of this client's update for ``round``."""
        if num_samples <= 0:
            raise ConfigError(f"num_samples must be positive, got {num_samples}")
        return self._send("submitUpdate", round, cid_to_bytes(cid), num_samples)

    def vote_commitment(
        self, round: int, scores: Sequence[int], salt: bytes, miner: str | None = None
    ) -> bytes:
        """The commitment for ``scores`` (computed locally, as ``revealVotes`` checks it)."""
        who = self.account if miner is None else miner
        return vote_commitment(self.transactor.chain_id, self.address, round, who, scores, salt)

    def commit_votes(self, round: int, commitment: bytes) -> TxReceipt:
        """Post the commitment to this miner's scores of ``round``."""
        if len(commitment) != 32:
            raise ConfigError(f"commitment must be 32 bytes, got {len(commitment)}")
        return self._send("commitVotes", round, commitment)

    def reveal_votes(self, round: int, scores: Sequence[int], salt: bytes) -> TxReceipt:
        """Reveal this miner's scores of ``round`` (one per submission, in order)."""
        check_scores(scores)
        return self._send("revealVotes", round, list(scores), salt)

    def mine_block(self) -> None:
        """Ask a development node for one empty block (``evm_mine``), so views see the
        current time; nodes that mine on a timer refuse it (an :class:`RPCError`)."""
        rpc(self.transactor.w3, "evm_mine", [])

    def finalize_round(self, round: int) -> TxReceipt:
        """One page of ``round``'s finalization (anyone, once it is ``CLOSED``): at most
        ``FINALIZE_PAGE`` steps; the page that takes the last step opens the next round.

        Its gas limit is the protocol's budget, not an estimate: what a page does depends on
        where the cursor is when it is mined (a page of scoring, or the last one, which also
        settles the committee and opens the next round), and with several parties paging at
        once that is not where it was when an estimate would have been taken. An estimate
        would also run the page a dozen times on the node, for every party, at every page.
        """
        return self._send("finalizeRound", round, gas=TX_GAS_BUDGET)

    def finalize(self, round: int) -> list[TxReceipt]:
        """Send pages of ``round``'s finalization until it is finalized; their receipts.

        Somebody else's pages count too. A first page refused because another party took
        the last step first raises as a single call would (``RoundAlreadyFinalized``); a later
        page that fails because the round got finalized meanwhile ends the loop.
        """
        receipts = [self.finalize_round(round)]
        while self.phase(round) != Phase.FINALIZED:
            try:
                receipts.append(self.finalize_round(round))
            except (ContractRevertError, TransactionFailedError):
                if self.phase(round) != Phase.FINALIZED:
                    raise
        return receipts

    def finalization_progress(self, round: int) -> tuple[int, int]:
        """Steps of ``round``'s finalization done, and in all (2 per update when decided)."""
        done, total = self._view("finalizationProgress", round)
        return int(done), int(total)

    def certify_aggregate(self, round: int, cid: str) -> TxReceipt:
        """Attest the CID of ``round``'s aggregate (members of ``round``'s committee only).

        A fixed gas limit, not an estimate: the attestation that reaches the
        quorum also stores the certified CID (about 132k gas against 81k), and
        an estimate taken before another member's attestation lands would
        under-fund it.
        """
        return self._send("certifyAggregate", round, cid_to_bytes(cid), gas=CERTIFY_GAS)

    # --- views -----------------------------------------------------------

    @cached_property
    def task_params(self) -> TaskParams:
        """The task's parameters (fixed at deployment; read once)."""
        return TaskParams.from_abi(self._view("taskParams")[0])

    @cached_property
    def token_address(self) -> Address:
        """The reward token's address."""
        return Address(Web3.to_checksum_address(self._view("token")[0]))

    def training_started(self) -> bool:
        """True once round 0 is open."""
        return bool(self._view("trainingStarted")[0])

    def task_finished(self) -> bool:
        """True once the task's last round is finalized (no further round opens)."""
        return bool(self._view("taskFinished")[0])

    def current_round(self) -> int:
        """The open round (0 before training starts; the last round once finished)."""
        return int(self._view("currentRound")[0])

    def phase(self, round: int) -> Phase:
        """The phase of ``round`` at the latest block's time."""
        return Phase(self._view("currentPhase", round)[0])

    def round_info(self, round: int) -> RoundInfo:
        """Phase, phase ends and counters of ``round``, in one call."""
        (phase, opened, s_end, c_end, r_end, expected, n, k, commits, reveals, accepted, cert) = (
            self._view("roundInfo", round)[0]
        )
        return RoundInfo(
            round=round,
            phase=Phase(phase),
            opened_at=opened,
            submit_end=s_end,
            commit_end=c_end,
            reveal_end=r_end,
            expected_submissions=expected,
            num_submissions=n,
            committee_size=k,
            num_commits=commits,
            num_reveals=reveals,
            num_accepted=accepted,
            certified=bool(cert),
        )

    def committee(self, round: int) -> tuple[Address, ...]:
        """``round``'s committee by seat (from ``CommitteeDrawn``; empty if not opened)."""
        logs = self.events("CommitteeDrawn", round)
        return tuple(Address(m) for m in logs[-1].args["members"]) if logs else ()

    def is_committee_member(self, round: int, account: str | None = None) -> bool:
        """Whether ``account`` (default: ours) sits on ``round``'s committee."""
        return bool(self._view("isCommitteeMember", round, account or self.account)[0])

    def is_sampled(self, round: int, account: str | None = None) -> bool:
        """Whether ``account`` (default: ours) is drawn to train in ``round``, the current round
        (every active client is when the task does not sample)."""
        return bool(self._view("isSampled", round, account or self.account)[0])

    def submissions(self, round: int) -> list[Submission]:
        """``round``'s submissions in index order, CIDs as strings."""
        return [submission(e) for e in self.events("UpdateSubmitted", round)]

    def round_outcome(self, round: int) -> Finalization | None:
        """The accepted set and per-update verdicts of ``round`` (None until finalized)."""
        finals = self.events("RoundFinalized", round)
        if not finals:
            return None
        clients = [s.client for s in self.submissions(round)]
        updates = [u for e in self.events("UpdatesScored", round) for u in scored_page(e, clients)]
        return finalization(finals[0], updates)

    def accepted_updates(self, round: int) -> list[Submission]:
        """The submissions of ``round`` that were accepted (empty until finalized)."""
        outcome = self.round_outcome(round)
        if outcome is None:
            return []
        return [s for s in self.submissions(round) if s.index in outcome.accepted]

    def certified_aggregate(self, round: int) -> CIDStr | None:
        """The certified CID of ``round``'s aggregate, or None."""
        raw = self._view("certifiedAggregate", round)[0]
        return bytes_to_cid(raw) if raw else None

    def client_state(self, account: str | None = None) -> ClientState:
        """Status, bond, reputation and last submitted round of a client."""
        return _client_state(self._view("clientInfo", account or self.account))

    def miner_state(self, account: str | None = None) -> MinerState:
        """Status, bond and reputation of a miner."""
        return _miner_state(self._view("minerInfo", account or self.account))

    def states_of(
        self, accounts: Sequence[Address]
    ) -> tuple[dict[Address, ClientState], dict[Address, MinerState]]:
        """The client and the miner state of every account, in batched calls."""
        calls = [
            (self.address, self.abi.encode_call(fn, a)) for fn in _ROLE_VIEWS for a in accounts
        ]
        raw = self.transactor.call_many(calls)
        n = len(accounts)
        clients = [_client_state(self.abi.decode_result("clientInfo", r)) for r in raw[:n]]
        miners = [_miner_state(self.abi.decode_result("minerInfo", r)) for r in raw[n:]]
        return dict(zip(accounts, clients, strict=True)), dict(zip(accounts, miners, strict=True))

    def rewards_of(
        self, accounts: Sequence[Address]
    ) -> tuple[dict[Address, int], dict[Address, int]]:
        """The reward-token balance and the claimable reward of every account, batched."""
        calls = [
            (self.token_address, self._token_abi.encode_call("balanceOf", a)) for a in accounts
        ]
        calls += [(self.address, self.abi.encode_call("claimable", a)) for a in accounts]
        raw = self.transactor.call_many(calls)
        n = len(accounts)
        balances = [int(self._token_abi.decode_result("balanceOf", r)[0]) for r in raw[:n]]
        owed = [int(self.abi.decode_result("claimable", r)[0]) for r in raw[n:]]
        return dict(zip(accounts, balances, strict=True)), dict(zip(accounts, owed, strict=True))

    def reputation(self, account: str | None = None, *, miner: bool = False) -> int:
        """Client (default) or miner reputation of ``account``."""
        state = self.miner_state(account) if miner else self.client_state(account)
        return state.reputation

    def bond(self, account: str | None = None) -> int:
        """Wei locked by ``account`` as client plus as miner."""
        return self.client_state(account).bond + self.miner_state(account).bond

    def miners(self) -> tuple[Address, ...]:
        """Active miners."""
        return tuple(Address(Web3.to_checksum_address(a)) for a in self._view("miners")[0])

    def claimable(self, account: str | None = None) -> int:
        """Reward tokens credited to ``account`` (default: ours) and not yet claimed."""
        return int(self._view("claimable", account or self.account)[0])

    def reward_totals(self) -> tuple[int, int]:
        """Rewards granted by finalization (``totalCredited``) and claimed (minted), since
        deployment."""
        return int(self._view("totalCredited")[0]), int(self._view("totalClaimed")[0])

    def token_supply(self) -> int:
        """The reward token's total supply (everything claimed so far)."""
        data = self._token_abi.encode_call("totalSupply")
        raw = self.transactor.call(self.token_address, data)
        return int(self._token_abi.decode_result("totalSupply", raw)[0])

    def token_balance(self, account: str | None = None) -> int:
        """Reward-token balance of ``account`` (default: ours)."""
        data = self._token_abi.encode_call("balanceOf", account or self.account)
        raw = self.transactor.call(self.token_address, data)
        return int(self._token_abi.decode_result("balanceOf", raw)[0])


_ROLE_VIEWS = ("clientInfo", "minerInfo")


def _client_state(raw: tuple[Any, ...]) -> ClientState:
    status, bond, rep, last = raw
    return ClientState(MemberStatus(status), bond, rep, last - 1 if last else None)


def _miner_state(raw: tuple[Any, ...]) -> MinerState:
    status, bond, rep = raw
    return MinerState(MemberStatus(status), bond, rep)
