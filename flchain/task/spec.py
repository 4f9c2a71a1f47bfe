"""The task specification: everything a client or miner needs beyond its index.

A task is one deployment of the protocol contract. ``flchain run`` writes a
:class:`TaskSpec` as canonical JSON, pins it to the shared store, and records
its CID on chain as the training-spec CID. Children read it back by that CID,
so nothing but ``--testnet``, ``--index``, ``--store`` and the behaviour is
passed out of band.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from flchain.exceptions import ConfigError
from flchain.learning.compression import Compressor

SPEC_VERSION = 2
SAMPLE_CAP_FACTOR = 2
"""An unset sample cap becomes this many times the largest client partition."""


@dataclass(frozen=True)
class TrainSpec:
    """Local training configuration every client applies."""

    epochs: int = 3
    batch_size: int = 16
    lr: float = 0.01
    optimizer: str = "adam"
    proximal_mu: float = 0.0


@dataclass(frozen=True)
class ScoreRules:
    """How a miner turns the updates of a round into scores (see ``flchain.task.quality``).

    Sizes are measured against the round's median change (the miner's own
    reference update counted in): below ``unchanged_ratio`` of it is free-riding,
    above ``norm_ratio`` times it is boosted. ``duplicate_tolerance``: two changes
    whose directions (unit vectors) are closer than this are copies.
    ``min_cosine`` and ``cosine_ratio``: an update's change must point along the
    miner's reference update, on the classifier head (FLTrust's trust), by more
    than ``max(min_cosine, cosine_ratio x the round's median cosine)``.
    ``cluster_separation``: a strict minority of the round set apart from the rest
    along the round's main direction by more than this many times the larger
    spread (the group's or the rest's) is rejected as a group. ``loss_ratio``
    and ``loss_slack``: an update's own validation loss may be at most
    ``max(loss_ratio * L, L + loss_slack)`` for the global model's loss ``L``.
    ``harm_tolerance``: how much validation accuracy the round's aggregate may
    gain when the update is left out. ``max_update_bytes``: larger encoded
    updates are rejected before they are read.
    """

    unchanged_ratio: float = 0.05
    norm_ratio: float = 3.0
    duplicate_tolerance: float = 0.05
    min_cosine: float = 0.05
    cosine_ratio: float = 0.4
    cluster_separation: float = 2.5
    loss_ratio: float = 2.0
    loss_slack: float = 5.0
    harm_tolerance: float = 0.25
    max_update_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class DPSpec:
    """Client-side differential privacy (see ``flchain.task.privacy``): off when ``clip`` is 0.

    Every client clips its update (local − global) to L2 norm ``clip`` and adds
    N(0, (``noise_multiplier`` x ``clip``)²) per float value, seeded from the task
    seed, its index and the round. ``delta`` is the δ of the reported (ε, δ).
    ``target_epsilon``: the ε the noise multiplier was derived for (0: the
    multiplier was given), recorded so the audit can compare.
    """

    clip: float = 0.0
    noise_multiplier: float = 0.0
    delta: float = 1e-5
    target_epsilon: float = 0.0

    def __post_init__(self) -> None:
        values = (self.clip, self.noise_multiplier, self.delta, self.target_epsilon)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ConfigError(f"dp settings must be finite numbers, got {self}")
        if self.clip < 0 or self.noise_multiplier < 0 or self.target_epsilon < 0:
            raise ConfigError(f"dp clip, noise multiplier and target ε must be >= 0, got {self}")
        if not 0 < self.delta < 1:
            raise ConfigError(f"dp delta must be in (0, 1), got {self.delta}")
        if self.clip > 0 and self.noise_multiplier <= 0:
            raise ConfigError(
                "dp noise multiplier must be > 0 when clipping: clipping alone gives no "
                "privacy guarantee"
            )
        if self.clip == 0 and (self.noise_multiplier or self.target_epsilon):
            raise ConfigError("dp noise needs a clip norm (the noise is scaled by it)")

    @property
    def enabled(self) -> bool:
        return self.clip > 0


@dataclass(frozen=True)
class ModuleSpec:
    """A task module the task runs (see ``flchain.app.module``): off when ``cid`` is empty.

    ``name``: the module to import from the archive; ``cid``: the CID of the module's
    canonical source archive (one file, or its package directory; ``flchain.app.archive``).
    """

    name: str = ""
    cid: str = ""

    def __post_init__(self) -> None:
        if bool(self.name) != bool(self.cid):
            raise ConfigError(f"a task module needs both its name and its CID, got {self}")


@dataclass(frozen=True)
class TaskSpec:
    """One federated task: data, model, strategy, training and scoring.

    ``committee``: seats per round (at most ``miners``; a majority quorum).
    ``clients_per_round``: how many clients the contract draws to train each round (0: all of
    them, and then left out of the canonical bytes); the others aggregate and verify.
    ``sample_cap``: the most samples one update's claim counts for (0: no absolute cap), in
    aggregation and in rewards (0 until the task is created, which fixes it from
    the data, see :meth:`with_sample_cap`). ``clip_updates``: accepted changes
    larger than the round's median change are scaled down to it before
    aggregation (defence in depth; see ``flchain.task.aggregate``). ``app``: the CID of
    the Flower app's canonical source archive the task runs (see ``flchain.app.archive``);
    empty for the built-in models and data sets. ``dp``: client-side differential
    privacy (off by default; a spec without it has the same canonical bytes as before).
    ``compression``: what clients pin, ``"topk:<fraction>"`` or ``"q8"`` (see
    ``flchain.task.compression``; empty: plain weights, and the same canonical bytes as before).
    ``task``: the task module the task runs instead (its name and source archive CID);
    empty for the built-in models and an app, and then left out of the canonical bytes.
    """

    dataset: str = "digits"
    partition: str = "iid"
    seed: int = 0
    arch: str = "digits-mlp"
    strategy: str = "fedavg"
    strategy_params: dict[str, Any] = field(default_factory=dict)
    train: TrainSpec = field(default_factory=TrainSpec)
    scoring: ScoreRules = field(default_factory=ScoreRules)
    clients: int = 4
    miners: int = 3
    rounds: int = 3
    committee: int = 3
    clients_per_round: int = 0
    sample_cap: int = 0
    clip_updates: bool = True
    app: str = ""
    dp: DPSpec = field(default_factory=DPSpec)
    compression: str = ""
    task: ModuleSpec = field(default_factory=ModuleSpec)
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        if self.clients < 1:
            raise ConfigError(f"a task needs at least one client, got clients={self.clients}")
        if self.miners < 1:
            raise ConfigError(f"a task needs at least one miner, got miners={self.miners}")
        if self.committee < 1:
            raise ConfigError(
                f"a committee needs at least one seat, got committee={self.committee}"
            )
        if self.rounds < 1:
            raise ConfigError(f"a task needs at least one round, got rounds={self.rounds}")
        if not 0 <= self.clients_per_round <= self.clients:
            raise ConfigError(
                f"clients_per_round must be in 0..clients ({self.clients}), "
                f"got {self.clients_per_round}"
            )
        if not 0 <= self.sample_cap < 2**32:
            raise ConfigError(f"sample_cap must be in 0..2^32-1, got {self.sample_cap}")
        if self.train.epochs < 1 or self.train.batch_size < 1 or self.train.lr <= 0:
            raise ConfigError(f"bad training configuration: {self.train}")
        if not isinstance(self.compression, str):
            raise ConfigError(f"compression must be a string, got {self.compression!r}")
        if self.compression and Compressor.parse(self.compression).name != self.compression:
            name = Compressor.parse(self.compression).name
            raise ConfigError(f"compression {self.compression!r} must be written {name!r}")
        if self.task.cid and self.app:
            raise ConfigError("a task runs a Flower app or a task module, not both")

    @property
    def builtin(self) -> bool:
        """Whether the task runs the built-in models and data sets (no app, no module)."""
        return not self.app and not self.task.cid

    def with_sample_cap(self, partition_sizes: list[int]) -> TaskSpec:
        """This spec with its sample cap fixed: when unset (0), twice the largest partition."""
        if self.sample_cap or not partition_sizes:
            return self
        return replace(self, sample_cap=SAMPLE_CAP_FACTOR * max(partition_sizes))

    def to_json(self) -> bytes:
        """Canonical bytes: sorted keys, no whitespace, so the CID is reproducible (``dp``,
        ``compression``, ``task`` and ``clients_per_round`` left out when off, so a task without
        them keeps its bytes and CID)."""
        raw = asdict(self)
        if not self.dp.enabled:
            del raw["dp"]
        if not self.compression:
            del raw["compression"]
        if not self.task.cid:
            del raw["task"]
        if not self.clients_per_round:
            del raw["clients_per_round"]
        return json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> TaskSpec:
        """Parse a spec, refusing unknown fields and other versions by name."""
        try:
            raw = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"task spec is not valid JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError("task spec must be a JSON object")
        if raw.get("version") != SPEC_VERSION:
            raise ConfigError(f"task spec version {raw.get('version')!r} is not {SPEC_VERSION}")
        train = _build(TrainSpec, raw.pop("train", {}), "train")
        scoring = _build(ScoreRules, raw.pop("scoring", {}), "scoring")
        dp = _build(DPSpec, raw.pop("dp", {}), "dp")
        task = _build(ModuleSpec, raw.pop("task", {}), "task")
        spec: TaskSpec = _build(
            cls, raw, "task spec", train=train, scoring=scoring, dp=dp, task=task
        )
        return spec


def _build(kind: type[Any], raw: Any, what: str, **extra: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{what} must be a JSON object")
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{what} has unknown field(s): {', '.join(unknown)}")
    try:
        return kind(**raw, **extra)
    except TypeError as exc:
        raise ConfigError(f"{what}: {exc}") from exc
