"""A real task history, built quickly by driving the protocol from one process.

For benchmarks and tests of the audit: no client or miner processes, but the
real contracts on a real node, real encoded models in a real store, and the
real aggregation. One process plays every party of a task (account layout of
:mod:`flchain.task.accounts`):

* each client trains the global model on its own shard (one short epoch, the
  real local training) and submits the result, or its attack on it
  (``signflip``, ``noise``, ``free-rider``);
* each committee member scores every update with the task's proof-of-quality
  rules on its own validation data, commits, and reveals (unless told not to);
* the admin finalizes; the committee attests the aggregate computed with
  :func:`flchain.task.aggregate.aggregate_round` (or a forged CID, for tests of
  a colluding committee).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flchain.chain.accounts import account_from_mnemonic
from flchain.chain.cidcodec import cid_to_bytes
from flchain.chain.connection import connect, rpc
from flchain.chain.deploy import deploy_protocol, protocol_abi
from flchain.chain.protocol import CERTIFY_GAS, ProtocolClient, vote_commitment
from flchain.chain.protocol_types import Phase
from flchain.chain.transactor import Transactor, TxRequest
from flchain.learning.attacks import ATTACKS
from flchain.learning.training import train_local
from flchain.party.workload import Workload, load_workload
from flchain.run.setup import Phases, pin_task_inputs, task_params
from flchain.storage.base import ContentStore
from flchain.storage.builder import compute_cid
from flchain.storage.codec import ModelMeta, decode_weights, encode_weights
from flchain.task.accounts import client_account, miner_account
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, aggregate_round
from flchain.task.evaluation import derive_seed
from flchain.task.salt import derive_salt
from flchain.task.spec import TaskSpec, TrainSpec
from flchain.types import Address, CIDStr, RoundId, Weights

PHASES = Phases(submit=3_600, commit=3_600, reveal=600)
"""Phase bounds long enough for one process to play every party (phases end early anyway)."""


@dataclass(frozen=True)
class SyntheticTask:
    """What history to build (the committee: the spec's default, at most the miners)."""

    clients: int = 8
    miners: int = 3
    rounds: int = 3
    attackers: Mapping[int, str] = field(default_factory=dict)  # client index -> attack
    silent_miners: frozenset[int] = frozenset()  # miner indices that commit but never reveal
    forged_rounds: frozenset[int] = frozenset()  # rounds whose committee certifies a wrong CID
    seed: int = 0
    dataset: str = "digits"
    arch: str = "digits-mlp"
    strategy: str = "fedavg"
    local_epochs: int = 1


@dataclass
class SyntheticRun:
    """What was built: where the task lives and what happened, for tests to compare."""

    protocol: Address
    token: Address
    block: int
    spec: TaskSpec
    clients: list[Address]
    miners: list[Address]
    accepted: list[tuple[int, ...]] = field(default_factory=list)
    certified: list[CIDStr | None] = field(default_factory=list)
    aggregates: list[CIDStr | None] = field(default_factory=list)


class _Driver:
    """Every party of one task, in one process."""

    def __init__(
        self, rpc_url: str, mnemonic: str, store: ContentStore, task: SyntheticTask
    ) -> None:
        self.task = task
        self.store = store
        self.tx = Transactor(connect(rpc_url))
        self.w3 = self.tx.w3
        self.admin = self.tx.add_account(account_from_mnemonic(mnemonic, 0))
        miner_keys = [account_from_mnemonic(mnemonic, miner_account(j)) for j in range(task.miners)]
        self.miners = [self.tx.add_account(account) for account in miner_keys]
        self.miner_keys = {m: bytes(a.key) for m, a in zip(self.miners, miner_keys, strict=True)}
        self.clients = [
            self.tx.add_account(account_from_mnemonic(mnemonic, client_account(i)))
            for i in range(task.clients)
        ]
        self.abi = protocol_abi()
        self.spec = TaskSpec(
            dataset=task.dataset,
            arch=task.arch,
            strategy=task.strategy,
            clients=task.clients,
            miners=task.miners,
            rounds=task.rounds,
            seed=task.seed,
            train=TrainSpec(epochs=task.local_epochs),
        )
        self.work: Workload = load_workload(self.spec)
        self.spec = self.spec.with_sample_cap(
            [c.num_samples for c in self.work.builtin.data.clients]
        )

    def deploy(self) -> SyntheticRun:
        spec_cid, initial_cid = pin_task_inputs(self.store, self.spec)
        params = task_params(self.spec, spec_cid, initial_cid, PHASES)
        d = deploy_protocol(self.tx, self.admin, params)
        self.params = params
        self.protocol = d.protocol
        self.reader = ProtocolClient(self.tx, d.protocol, self.admin, from_block=d.block)
        self.send([("registerMiner", (), m, params.miner_bond) for m in self.miners])
        self.send([("registerClient", (), c, params.client_bond) for c in self.clients])
        self.send([("startTraining", (), self.admin, 0)])
        weights, _ = decode_weights(self.store.get(initial_cid))
        self.global_model = GlobalModel(0, initial_cid, weights)
        return SyntheticRun(d.protocol, d.token, d.block, self.spec, self.clients, self.miners)

    def send(
        self, calls: Sequence[tuple[str, tuple[Any, ...], Address, int]], gas: int | None = None
    ) -> None:
        txs = [
            TxRequest(sender, self.protocol, self.abi.encode_call(fn, *args), value, gas)
            for fn, args, sender, value in calls
        ]
        self.tx.transact_many(txs)

    def claim_all(self) -> None:
        """Every party claims its rewards once the task is finished, as the real parties do."""
        owed = [a for a in (*self.clients, *self.miners) if self.reader.claimable(a)]
        self.send([("claim", (), a, 0) for a in owed])

    # --- one round -------------------------------------------------------------------

    def play_round(self, r: int, run: SyntheticRun) -> None:
        self.submit(r)
        submissions = self.reader.submissions(r)
        committee = self.reader.committee(r)
        updates = [decode_weights(self.store.get(s.cid))[0] for s in submissions]
        samples = [s.num_samples for s in submissions]
        scores = {m: self.scores(m, updates, samples) for m in committee}
        chain_id = self.tx.chain_id
        salts = {m: derive_salt(self.miner_keys[m], chain_id, self.protocol, r) for m in committee}
        commits = [
            (
                "commitVotes",
                (r, vote_commitment(chain_id, self.protocol, r, m, scores[m], salts[m])),
                m,
                0,
            )
            for m in committee
        ]
        if submissions and committee:
            self.send(commits)
            silent = {self.miners[j] for j in self.task.silent_miners}
            self.send(
                [
                    ("revealVotes", (r, scores[m], salts[m]), m, 0)
                    for m in committee
                    if m not in silent
                ]
            )
        if self.reader.phase(r) != Phase.CLOSED:
            rpc(self.w3, "evm_increaseTime", [self.params.reveal_duration + 1])
            rpc(self.w3, "evm_mine", [])
        while self.reader.phase(r) != Phase.FINALIZED:  # one page per transaction
            self.send([("finalizeRound", (r,), self.admin, 0)])
        outcome = self.reader.round_outcome(r)
        assert outcome is not None
        run.accepted.append(outcome.accepted)
        chosen = [
            AcceptedUpdate(s.index, s.cid, s.num_samples, s.client, updates[s.index])
            for s in submissions
            if s.index in outcome.accepted
        ]
        result = aggregate_round(
            self.work.strategy, self.global_model, chosen, task=self.protocol, spec=self.spec
        )
        self.global_model = result.model
        if result.data is None:
            run.aggregates.append(None)
            run.certified.append(None)
            return
        self.store.put(result.data)
        cid = result.model.cid
        if r in self.task.forged_rounds:
            cid = compute_cid(f"forged aggregate {r}".encode()).encode()
        run.aggregates.append(result.model.cid)
        self.send(
            [("certifyAggregate", (r, cid_to_bytes(cid)), m, 0) for m in committee], gas=CERTIFY_GAS
        )
        run.certified.append(self.reader.certified_aggregate(r))

    def submit(self, r: int) -> None:
        calls = []
        for i, client in enumerate(self.clients):
            weights = self.make_update(r, i)
            meta = ModelMeta(RoundId(r), client, self.spec.arch, self.global_model.cid)
            cid = self.store.put(encode_weights(weights, meta))
            samples = self.work.builtin.data.clients[i].num_samples
            calls.append(("submitUpdate", (r, cid_to_bytes(cid), samples), client, 0))
        self.send(calls)

    def make_update(self, r: int, i: int) -> Weights:
        """Client ``i``'s update of round ``r``, from the seeds a real client derives."""
        rng = np.random.default_rng(derive_seed(self.spec.seed, "attack", i, r))
        g = self.global_model.weights
        data = self.work.builtin.data.clients[i].train
        seed = derive_seed(self.spec.seed, "train", i, r)
        honest = train_local(
            self.work.builtin.model, data, self.work.builtin.config, dict(g), seed
        ).weights
        attack = self.task.attackers.get(i)
        return ATTACKS[attack](dict(g), honest, rng) if attack else honest

    def scores(self, miner: Address, updates: Sequence[Weights], samples: list[int]) -> list[int]:
        """The task's proof-of-quality scores of a committee member (the miner's rules)."""
        from flchain.task.evaluation import evaluator, reference_model
        from flchain.task.quality import score_round

        index = self.miners.index(miner)
        data = self.work.builtin.data.miners[index]
        evaluate_fn = evaluator(self.work.builtin.model, data)
        g = self.global_model.weights
        seed = derive_seed(self.spec.seed, "reference", index, self.global_model.round)
        reference = reference_model(
            self.work.builtin.model, data, self.work.builtin.config, g, seed
        )
        verdicts = score_round(
            g,
            list(updates),
            evaluate_fn,
            evaluate_fn(g),
            self.spec.scoring,
            samples=samples,
            reference=reference,
            sample_cap=self.spec.sample_cap,
            head=self.work.program.head,
        )
        return [int(v.score) for v in verdicts]


def build_history(
    rpc_url: str, mnemonic: str, store: ContentStore, task: SyntheticTask
) -> SyntheticRun:
    """Deploy a task on the node at ``rpc_url`` and play ``task.rounds`` rounds of it."""
    driver = _Driver(rpc_url, mnemonic, store, task)
    run = driver.deploy()
    for r in range(task.rounds):
        driver.play_round(r, run)
    driver.claim_all()
    return run
