"""The client process: one loop over rounds, one method per step of an update's path.

    register → for each round r:
        wait until r opens → (if drawn to train in r) train on the global model
        → encode → pin → submit
        → wait until r is finalized → fetch accepted updates → aggregate
        → pin the aggregate → (after the next submission) check the certified
          CID of r equals ours

The global model of round 0 is the task's initial model; that of round r + 1 is
this client's own aggregate of round r, which must equal the certified one: a
mismatch is logged as an error event and counted in the exit status.
"""

from __future__ import annotations

import numpy as np

from clients.behaviours import Crafted, craft, data_free, plagiarise
from flchain.chain.protocol_types import Phase, Submission
from flchain.exceptions import (
    AppError,
    ConfigError,
    ContractRevertError,
    RoundTimeoutError,
    StoreWriteError,
)
from flchain.learning.attacks import get_attack
from flchain.party.behaviours import ClientBehaviour, Role
from flchain.party.participant import Participant
from flchain.storage.codec import ModelMeta
from flchain.task.aggregate import AcceptedUpdate, GlobalModel
from flchain.task.compression import compression_rng, compressor_for, encode_update
from flchain.task.evaluation import derive_seed
from flchain.task.privacy import privatize
from flchain.types import ArrayPair, CIDStr, RoundId, Weights

CERTIFY_TIMEOUT_S = 60.0
"""How long a client waits, after its last round, for the pending certifications."""


class Client(Participant):
    """One client of a task, driven round by round."""

    role = Role.CLIENT

    def prepare(self) -> None:
        workload, index, behaviour = self.work, self.index, self.behaviour
        local = workload.program.local_data
        self.own: ArrayPair | None = local[index] if local is not None else None
        """The client's own data as arrays (None: the program keeps its data)."""
        self.examples = len(self.own[1]) if self.own is not None else 1
        """How many examples the client claims: its program's count of the last training."""
        self.num_classes = workload.program.num_classes if local is not None else 0
        if self.own is None and not data_free(behaviour):
            raise ConfigError(
                f"behaviour {behaviour!r} rewrites the client's data, which this task's app "
                "keeps to itself; an app task runs honest, plagiarist and model attacks"
            )
        self.unverified: list[tuple[int, CIDStr]] = []
        self.mismatches = 0
        self.compressor = compressor_for(self.party.spec)
        """What this client pins (None: whole models); top-k's residual is kept here only."""

    # --- the round -----------------------------------------------------------

    def play_round(self, r: int) -> None:
        """Train and submit (if the round is still open for it and drew this client), then
        aggregate: a client not drawn to train still aggregates and verifies."""
        assert self.global_model is not None
        info = self.wait_for_phase(r, lambda p: p != Phase.NOT_OPENED, "to open")
        self.log.emit("round_open", round=r)
        live = info.phase != Phase.FINALIZED  # the draw is known while the round is open
        draws = self.party.params.clients_per_round != 0  # else every active client trains
        drawn = live and (not draws or self.party.protocol.is_sampled(r))
        if info.phase == Phase.SUBMIT and drawn:
            self.train_and_submit(r, self.global_model)
        elif live and not drawn:
            self.log.info("round %d: not drawn to train, only aggregating", r)
            self.log.emit("not_sampled", round=r)
        else:
            self.log.warning("round %d: submit phase already over, only aggregating", r)
        self.verify_pending(final=False)
        accepted = self.fetch_accepted(r)
        self.global_model = self.aggregate(r, self.global_model, accepted)

    def train_and_submit(self, r: int, model: GlobalModel) -> None:
        """Make this round's update and submit it; a program failure loses only this round."""
        try:
            crafted = self.make_update(r, model)
        except AppError as exc:
            self.log.error("round %d: training failed, not submitting: %s", r, exc)
            self.log.emit("train_failed", round=r, error=str(exc))
            return
        try:
            cid = self.pin(r, crafted.weights)
        except StoreWriteError as exc:
            self.log.error("round %d: cannot pin the update, not submitting: %s", r, exc)
            self.log.emit("pin_failed", round=r, error=str(exc))
        else:
            self.submit(r, cid, crafted.claimed)

    def finish(self) -> int:
        """Wait for the last certifications; the number of mismatches."""
        self.verify_pending(final=True)
        self.log.emit("done", mismatches=self.mismatches)
        return self.mismatches

    # --- steps ---------------------------------------------------------------

    def make_update(self, r: int, model: GlobalModel) -> Crafted:
        """Train (for behaviours that train; privatised when the task has DP, see
        ``flchain.task.privacy``) and apply the behaviour."""
        rng = np.random.default_rng(derive_seed(self.party.spec.seed, "attack", self.index, r))
        if self.behaviour == ClientBehaviour.PLAGIARIST:
            return Crafted(self.copy_someone(r, model, rng))
        seed = derive_seed(self.party.spec.seed, "train", self.index, r)
        program = self.work.program
        losses: list[float] = []

        def train(data: ArrayPair | None) -> Weights:
            if data is self.own:  # the party's own partition: the program's training
                outcome = program.train(self.partition, dict(model.weights), r, seed)
                self.examples = self.bounded(r, outcome.num_samples)
            else:  # rewritten data (an attack of the lab; built-in data only)
                assert data is not None
                outcome = program.train_on(data, dict(model.weights), seed)
            losses.append(outcome.loss)
            return privatize(self.party.spec, self.index, r, model.weights, outcome.weights)

        def make() -> Crafted:
            return craft(
                self.behaviour,
                model.weights,
                self.own,
                train,
                rng,
                num_classes=self.num_classes,
                n_clients=self.party.spec.clients,
            )

        if self.behaviour != "honest" and not get_attack(self.behaviour).trains:
            return make()
        with self.log.timed("trained", round=r) as extra:
            crafted = make()
            extra["loss"] = round(losses[-1], 6)
        return crafted

    def bounded(self, r: int, examples: int) -> int:
        """The program's example count, at most the task's sample cap."""
        cap = self.party.spec.sample_cap
        if cap and examples > cap:
            self.log.warning(
                "round %d: %d examples reported, claiming the cap %d", r, examples, cap
            )
            return cap
        return examples

    def copy_someone(self, r: int, model: GlobalModel, rng: np.random.Generator) -> Weights:
        """Wait for another client's submission of round ``r`` and copy it."""
        protocol = self.party.protocol

        def someone_else() -> Submission | None:
            others = [s for s in protocol.submissions(r) if s.client != self.party.address]
            return others[0] if others else None

        try:
            victim = self.party.wait_for(f"a submission to copy in round {r}", someone_else, 30.0)
        except RoundTimeoutError:
            self.log.warning("round %d: nobody to copy, resubmitting the global model", r)
            return dict(model.weights)
        self.log.info("round %d: copying update %d of %s", r, victim.index, victim.client)
        return plagiarise(model.weights, self.fetch_update(victim.cid, model), rng)

    def pin(self, r: int, weights: Weights) -> CIDStr:
        """Encode the update (author = this client, parent = the global CID; compressed against
        the global model when the task says so) and pin it."""
        assert self.global_model is not None
        spec, parent = self.party.spec, self.global_model
        meta = ModelMeta(RoundId(r), self.party.address, spec.arch, parent.cid)
        with self.log.timed("pinned", round=r) as extra:
            rng = compression_rng(spec, self.index, r)
            data = encode_update(self.compressor, parent.weights, weights, meta, rng)
            cid = self.party.store.put(data)
            extra["cid"], extra["bytes"] = cid, len(data)
        return cid

    def submit(self, r: int, cid: CIDStr, claimed: int | None = None) -> None:
        samples = self.examples if claimed is None else claimed
        try:
            with self.log.timed("submitted", round=r, cid=cid) as extra:
                extra["gas"] = self.party.protocol.submit_update(r, cid, samples).gas_used
        except ContractRevertError as exc:
            self.log.error("round %d: submission refused: %s", r, exc)
            self.log.emit("submit_refused", round=r, error=exc.name)
            return
        self.log.info("round %d: submitted %s (%d samples)", r, cid, samples)

    def aggregate(self, r: int, model: GlobalModel, accepted: list[AcceptedUpdate]) -> GlobalModel:
        """Aggregate locally, pin the result, and remember to check it against the certified CID."""
        result = self.aggregate_locally(r, model, accepted)
        if result.data is not None:
            self.unverified.append((r, result.model.cid))
        return result.model

    def verify_pending(self, *, final: bool) -> None:
        """Compare each pending local aggregate with the certified CID, once certified."""
        for r, local in list(self.unverified):
            certified = self.party.protocol.certified_aggregate(r)
            if certified is None and final:
                try:
                    certified = self.wait_certified(r)
                except RoundTimeoutError:
                    self.log.error("round %d: aggregate never certified", r)
                    self.log.emit("uncertified", round=r, local=local)
                    self.unverified.remove((r, local))
                    continue
            if certified is None:
                continue
            self.unverified.remove((r, local))
            if certified == local:
                self.log.emit("verified", round=r, cid=local)
            else:
                self.mismatches += 1
                self.log.error(
                    "round %d: AGGREGATE MISMATCH: local %s, certified %s", r, local, certified
                )
                self.log.emit("aggregate_mismatch", round=r, local=local, certified=certified)

    # --- helpers -------------------------------------------------------------

    def wait_certified(self, r: int) -> CIDStr:
        """Round ``r``'s certified CID, waiting up to a minute (at most the round timeout)."""
        protocol = self.party.protocol
        return self.party.wait_for(
            f"certification of round {r}",
            lambda: protocol.certified_aggregate(r),
            min(CERTIFY_TIMEOUT_S, self.timeout),
        )
