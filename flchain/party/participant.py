"""What a client and a miner have in common: a seat in one task, run round by round.

Both roles fetch updates by CID (decoded within the task's limits), aggregate
the round's accepted updates locally with :func:`aggregate_round`, pin the
result and attest its CID on chain. The roles themselves live in ``clients``
and ``miners`` and subclass :class:`Participant`.
"""

from __future__ import annotations

from flchain.exceptions import ContractRevertError
from flchain.learning.weights import Weights
from flchain.party.party import Party
from flchain.party.workload import Workload
from flchain.storage.codec import ModelMeta, decode_weights_from_store
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, RoundAggregate, aggregate_round
from flchain.types import CIDStr


class Participant:
    """One party of a task (its chain seat, store and workload), driven round by round."""

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

    def fetch(self, cid: str) -> Weights:
        """The weights named by ``cid``: verified, within the size limit, of the task's shape."""
        return self.fetch_with_meta(cid)[0]

    def fetch_with_meta(self, cid: str) -> tuple[Weights, ModelMeta]:
        """:meth:`fetch`, with the metadata the file carries."""
        return decode_weights_from_store(
            self.party.store,
            cid,
            expected=self.work.arch,
            max_bytes=self.party.spec.scoring.max_update_bytes,
        )

    def aggregate_locally(
        self, r: int, model: GlobalModel, accepted: list[AcceptedUpdate]
    ) -> RoundAggregate:
        """Round ``r``'s aggregate, computed here and pinned (when anything was accepted)."""
        with self.log.timed("aggregated", round=r, accepted=len(accepted)) as extra:
            result = aggregate_round(
                self.work.strategy, model, accepted, task=self.party.task, spec=self.party.spec
            )
            extra["cid"] = result.model.cid
        if result.data is not None:
            self.party.store.put(result.data)
        return result

    def attest(self, r: int, cid: CIDStr) -> ContractRevertError | None:
        """Record ``cid`` on chain as round ``r``'s aggregate; return the refusal, if any."""
        try:
            with self.log.timed("attested", round=r, cid=cid) as extra:
                receipt = self.party.transact(
                    "attest", lambda: self.party.protocol.certify_aggregate(r, cid)
                )
                extra["gas"] = int(receipt["gasUsed"])
        except ContractRevertError as exc:
            return exc
        return None
