"""What a client and a miner have in common: a seat in one task, run round by round.

    register → load the initial model → for each round r: play_round(r)
             → claim the rewards credited over the task → finish

Both roles register (a restarted party is already registered), wait for the
chain's phases, fetch updates by CID (decoded within the task's limits) and
aggregate the round's accepted updates locally with :func:`aggregate_round`.
The roles themselves live in ``clients`` and ``miners``, subclass
:class:`Participant` and keep only their own steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from concurrent.futures import Executor
from typing import ClassVar, TypeVar

from flchain.chain.protocol_types import Phase, RoundInfo
from flchain.chain.revert_names import RevertName
from flchain.exceptions import ContractRevertError, FLchainError, StoreWriteError
from flchain.party.behaviours import Role
from flchain.party.memo import AggregateMemo
from flchain.party.party import Party
from flchain.party.workload import Workload
from flchain.storage.codec import ModelMeta, decode_weights_from_store
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, RoundAggregate, aggregate_round
from flchain.task.compression import fetch_update
from flchain.types import Weights

T = TypeVar("T")


class Participant:
    """One party of a task (its chain seat, store and workload), driven round by round."""

    role: ClassVar[Role]

    def __init__(
        self,
        party: Party,
        workload: Workload,
        index: int,
        behaviour: str = "honest",
        round_timeout: float = 600.0,
    ) -> None:
        self.party = party
        self.work = workload
        self.index = index
        self.behaviour = behaviour
        self.timeout = round_timeout
        self.log = party.log
        self.global_model: GlobalModel | None = None
        self.cache: MutableMapping[str, Weights] = {}
        """This round's updates already fetched, by CID (a pool shares one among its clients)."""
        self.aggregates: AggregateMemo | None = None
        """Aggregates shared with the other clients of a pool (``None``: compute alone)."""
        self.workers: Executor | None = None
        """Where heavy work (aggregating; a pooled client's training) runs: a pool's few
        compute threads, or ``None`` for this party's own thread."""
        partitions = workload.program.partitions
        self.partition = (
            partitions.client(index) if self.role == Role.CLIENT else partitions.miner(index)
        )
        """The program's partition this party trains (client) or scores (miner) on."""
        self.prepare()

    def prepare(self) -> None:
        """This role's own state, set up after the shared one (checks its behaviour)."""

    # --- the loop ------------------------------------------------------------

    def run(self) -> int:
        """Take part in every round of the task; return the number of failures found."""
        self.register()
        cid = self.party.params.initial_model_cid
        self.global_model = GlobalModel(0, cid, self.fetch(cid))
        for r in range(self.party.spec.rounds):
            self.play_round(r)
            self.cache.clear()
        self.claim_rewards()
        return self.finish()

    def play_round(self, r: int) -> None:
        """This role's part of round ``r``, ending with ``self.global_model`` updated."""
        raise NotImplementedError

    def finish(self) -> int:
        """After the last round: log the end; the number of failures found."""
        self.log.emit("done")
        return 0

    # --- shared steps ----------------------------------------------------------

    def register(self) -> None:
        """Lock this role's bond (a restarted party is already registered)."""
        protocol = self.party.protocol
        send = protocol.register_client if self.role == Role.CLIENT else protocol.register_miner
        try:
            tx = send()
            self.log.emit("registered", gas=tx.gas_used, round=-1)
        except ContractRevertError as exc:
            if exc.name != RevertName.AlreadyRegistered:
                raise
            self.log.emit("registered", gas=0, round=-1, again=True)
        self.log.info("registered as %s %d (%s)", self.role, self.index, self.behaviour)

    def claim_rewards(self) -> None:
        """Once the task's last round is finalized: mint the rewards credited over the task
        (one claim, so the token balance ends where minting at every finalization left it)."""
        protocol = self.party.protocol
        owed = protocol.claimable()
        if owed == 0:
            self.log.emit("claimed", amount="0", gas=0, round=-1)
            return
        try:
            tx = protocol.claim()
        except ContractRevertError as exc:  # claimed meanwhile (a restarted party)
            if exc.name != RevertName.NothingToClaim:
                raise
            return
        self.log.emit("claimed", amount=str(owed), gas=tx.gas_used, round=-1)
        self.log.info("claimed %d reward units", owed)

    def wait_for_phase(self, r: int, ok: Callable[[Phase], bool], what: str) -> RoundInfo:
        """Poll ``roundInfo(r)`` until ``ok(phase)``; mine a block past a phase deadline."""
        protocol = self.party.protocol
        latest: list[RoundInfo] = []

        def probe() -> RoundInfo | None:
            info = protocol.round_info(r)
            latest[:] = [info]
            return info if ok(info.phase) else None

        def deadline() -> float | None:
            # Past the reveal phase a block shows nothing new: the round waits on finalization.
            if not latest or latest[0].phase in (Phase.NOT_OPENED, Phase.CLOSED, Phase.FINALIZED):
                return None
            info = latest[0]
            ends = {Phase.SUBMIT: info.submit_end, Phase.COMMIT: info.commit_end}
            return float(ends.get(info.phase, info.reveal_end))

        return self.party.wait_for(f"round {r} {what}", probe, self.timeout, deadline)

    def fetch(self, cid: str) -> Weights:
        """The weights named by ``cid``: verified, within the size limit, of the task's shape."""
        if cid not in self.cache:
            self.cache[cid] = self.fetch_with_meta(cid)[0]
        return self.cache[cid]

    def fetch_with_meta(self, cid: str) -> tuple[Weights, ModelMeta]:
        """The weights named by ``cid`` and the metadata their file carries (not cached)."""
        return decode_weights_from_store(
            self.party.store,
            cid,
            expected=self.work.arch,
            max_bytes=self.party.spec.scoring.max_update_bytes,
        )

    def fetch_update(self, cid: str, parent: GlobalModel) -> Weights:
        """The model an update named by ``cid`` stands for, decompressed against ``parent``
        (the round's global model) when the task compresses; cached like :meth:`fetch`."""
        if cid not in self.cache:
            self.cache[cid] = self.fetch_update_with_meta(cid, parent)[0]
        return self.cache[cid]

    def fetch_update_with_meta(self, cid: str, parent: GlobalModel) -> tuple[Weights, ModelMeta]:
        """An update's model and the metadata its file carries (not cached; see
        ``flchain.task.compression``)."""
        spec, arch = self.party.spec, self.work.arch
        return fetch_update(self.party.store, cid, spec=spec, arch=arch, parent=parent)

    def fetch_accepted(self, r: int) -> list[AcceptedUpdate]:
        """Wait until round ``r`` is finalized; its accepted updates, fetched."""
        assert self.global_model is not None
        self.wait_for_phase(r, lambda p: p == Phase.FINALIZED, "to be finalized")
        model = self.global_model
        return [
            AcceptedUpdate(s.index, s.cid, s.num_samples, s.client, self.fetch_update(s.cid, model))
            for s in self.party.protocol.accepted_updates(r)
        ]

    def on_compute(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the pool's compute threads (waiting its turn), or right here."""
        return work() if self.workers is None else self.workers.submit(work).result()

    def aggregate_locally(
        self, r: int, model: GlobalModel, accepted: list[AcceptedUpdate]
    ) -> RoundAggregate:
        """Round ``r``'s aggregate, computed here and pinned (when anything was accepted);
        in a pool, computed by the first client that needs it and shared with the others."""

        def work() -> RoundAggregate:
            return aggregate_round(
                self.work.strategy, model, accepted, task=self.party.task, spec=self.party.spec
            )

        with self.log.timed("aggregated", round=r, accepted=len(accepted)) as extra:
            if self.aggregates is None:
                result, computed = self.on_compute(work), True
            else:
                result, computed = self.aggregates.get(
                    r, model, accepted, lambda: self.on_compute(work)
                )
            extra["cid"] = result.model.cid
            if not computed:
                extra["shared"] = True
        if computed and result.data is not None:
            try:
                self.party.store.put(result.data)
            except StoreWriteError as exc:  # the CID is known; others pin it too
                self.log.error("round %d: cannot pin the aggregate: %s", r, exc)
        return result


def run_participant(
    kind: type[Participant], party: Party, workload: Workload, index: int, behaviour: str
) -> int:
    """Run one party to the end of the task; the exit status is 1 if it found failures."""
    return drive(kind(party, workload, index, behaviour))


def drive(participant: Participant) -> int:
    """Run ``participant`` to the end of the task; 1 if it found failures (errors raise)."""
    party, role, index = participant.party, participant.role, participant.index
    start = time.time()
    try:
        failures = participant.run()
    except FLchainError as exc:
        party.log.error("%s %d stopped: %s", role, index, exc)
        party.log.emit("failed", error=str(exc))
        raise
    party.log.info("%s %d finished in %.1f s", role, index, time.time() - start)
    return min(failures, 1)
