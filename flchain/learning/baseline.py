"""Plain in-process federated learning: the yardstick FLchain is compared against.

No chain, no storage, no network: every round, the selected clients train
from the global model, malicious ones run their attack from
:data:`flchain.learning.attacks.ATTACKS` (data poisoning on their own data,
model poisoning on their trained update, collusion together with the other
picked clients of the same attack, a claim on their sample count, or the
adaptive attack), updates are optionally privatised (clip + noise) and
compressed, and the strategy aggregates them. The result reports final test
accuracy, accuracy after every round, wall-clock time, who attacked and, with
a backdoor, the attack success rate on the test set.

Seeds: client ``c`` in round ``r`` trains with the seed derived from
``(seed, r, c)``; the partition, the malicious set and client sampling derive
from ``seed`` too, so a run is reproducible on one machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from flchain.exceptions import ConfigError
from flchain.learning import dp
from flchain.learning.adversary import HONEST, assign_behaviours, parse_malicious
from flchain.learning.attacks import ATTACKS, attack_success_rate, label_flip, trigger_for
from flchain.learning.compression import Compressor, decompress
from flchain.learning.data import load_dataset
from flchain.learning.models import ARCHITECTURES, build_model, default_arch
from flchain.learning.partition import FederatedData, split_for_federation
from flchain.learning.strategies import ClientUpdate, StrategyState, strategy_from_name
from flchain.learning.strategies.trust import FLTrust
from flchain.learning.training import (
    TrainConfig,
    configure_torch,
    evaluate,
    predict,
    train_local,
)
from flchain.learning.weights import get_weights, num_parameters
from flchain.types import ArrayPair, Weights


@dataclass(frozen=True)
class BaselineConfig:
    """Everything that defines a baseline run."""

    dataset: str = "digits"
    data_path: str | None = None
    clients: int = 20
    rounds: int = 30
    partition: str = "dirichlet:0.5"
    strategy: str = "fedavg"
    strategy_params: Mapping[str, Any] = field(default_factory=dict)
    malicious: str | None = None
    seed: int = 0
    local_epochs: int = 4
    batch_size: int = 16
    lr: float = 0.3
    optimizer: str = "sgd"
    arch: str | None = None
    fraction_fit: float = 1.0
    compress: str | None = None
    dp_clip: float | None = None
    dp_noise: float = 0.0
    dp_delta: float = 1e-5
    device: str = "cpu"
    validation_fraction: float = 0.1
    client_test_fraction: float = 0.1
    threads: int = 1


@dataclass(frozen=True)
class BaselineResult:
    """What a run reports (``to_json()`` gives the CLI's ``--json`` object)."""

    accuracy: float
    loss: float
    accuracy_per_round: list[float]
    wall_s: float
    arch: str
    num_parameters: int
    malicious_clients: list[int]
    attackers: dict[str, list[int]]
    backdoor_success: float | None
    bytes_per_update_raw: int
    bytes_per_update_sent: float
    epsilon: float | None
    config: BaselineConfig

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["config"] = {
            **asdict(self.config),
            "strategy_params": dict(self.config.strategy_params),
        }
        return out


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def run_baseline(
    config: BaselineConfig, progress: Callable[[int, float], None] | None = None
) -> BaselineResult:
    """Run classic FL in-process; ``progress(round, accuracy)`` is called after every round."""
    if config.clients < 1 or config.rounds < 1:
        raise ConfigError("clients and rounds must be >= 1")
    if not 0 < config.fraction_fit <= 1:
        raise ConfigError("fraction_fit must be in (0, 1]")
    start = time.perf_counter()
    configure_torch(config.threads)
    data = load_dataset(config.dataset, config.data_path)
    arch = config.arch or default_arch(data.name, data.num_features)
    if ARCHITECTURES.get(arch) and ARCHITECTURES[arch].num_features != data.num_features:
        raise ConfigError(f"architecture {arch!r} does not take {data.num_features} features")
    fed = split_for_federation(
        data,
        config.clients,
        n_miners=1,
        scheme=config.partition,
        seed=config.seed,
        validation_fraction=config.validation_fraction,
        client_test_fraction=config.client_test_fraction,
    )
    strategy = strategy_from_name(config.strategy, **dict(config.strategy_params))
    train_cfg = TrainConfig(
        epochs=config.local_epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        optimizer=config.optimizer,
        proximal_mu=strategy.fit_config().get("proximal_mu", 0.0),
        device=config.device,
    )
    counts = parse_malicious(config.malicious, config.clients) if config.malicious else {}
    behaviours = assign_behaviours(counts, config.clients, config.seed)
    poisoned = _poisoned_data(fed, behaviours, data.num_classes, config.seed)
    compressors = (
        {c: Compressor.parse(config.compress) for c in range(config.clients)}
        if config.compress
        else {}
    )
    accountant = (
        dp.PrivacyAccountant(config.dp_noise, config.fraction_fit) if config.dp_clip else None
    )

    model = build_model(arch, config.seed)
    global_weights = get_weights(model)
    lab = _Clients(config, fed, model, train_cfg, behaviours, poisoned)
    raw_bytes = 4 * num_parameters(global_weights)
    sent: list[int] = []
    state: StrategyState | None = None
    curve: list[float] = []
    acc, loss = 0.0, 0.0
    per_round = max(1, round(config.fraction_fit * config.clients))
    for rnd in range(config.rounds):
        order = np.random.default_rng([config.seed, rnd, 3]).permutation(config.clients)
        picked = sorted(int(c) for c in order[:per_round])
        updates = []
        for c, local, n in lab.updates(global_weights, rnd, picked):
            if config.dp_clip:
                rng = np.random.default_rng([config.seed, rnd, c, 11])
                local = dp.privatize_update(
                    global_weights, local, config.dp_clip, config.dp_noise, rng
                )
            if compressors:
                blob = compressors[c].compress(
                    global_weights, local, np.random.default_rng([config.seed, rnd, c, 13])
                )
                sent.append(len(blob))
                local = decompress(global_weights, blob)
            updates.append(ClientUpdate(f"r{rnd:05d}-c{c:05d}", local, n, client=f"c{c:05d}"))
        if isinstance(strategy, FLTrust):
            root = train_local(
                model, fed.miners[0], train_cfg, global_weights, _seed(config.seed, rnd, 1 << 20)
            )
            result = strategy.aggregate(global_weights, updates, state, root_weights=root.weights)
        else:
            result = strategy.aggregate(global_weights, updates, state)
        global_weights, state = result.weights, result.state
        if accountant:
            accountant.step()
        acc, loss = evaluate(model, fed.test, global_weights, device=config.device)
        curve.append(acc)
        if progress:
            progress(rnd, acc)
    return BaselineResult(
        accuracy=acc,
        loss=loss,
        accuracy_per_round=curve,
        wall_s=time.perf_counter() - start,
        arch=arch,
        num_parameters=raw_bytes // 4,
        malicious_clients=[c for c, b in enumerate(behaviours) if b != HONEST],
        attackers={
            name: [c for c, b in enumerate(behaviours) if b == name] for name in sorted(counts)
        },
        backdoor_success=_backdoor_success(model, fed, global_weights, config)
        if "backdoor" in counts
        else None,
        bytes_per_update_raw=raw_bytes,
        bytes_per_update_sent=float(np.mean(sent)) if sent else float(raw_bytes),
        epsilon=accountant.epsilon(config.dp_delta) if accountant else None,
        config=config,
    )


def _poisoned_data(
    fed: FederatedData, behaviours: list[str], num_classes: int, seed: int
) -> dict[int, ArrayPair]:
    """The training data of every data-poisoning client (label-flipped for the adaptive one)."""
    out: dict[int, ArrayPair] = {}
    for c, name in enumerate(behaviours):
        attack = ATTACKS.get(name)
        rng = np.random.default_rng([seed, c, 19])
        if attack is not None and attack.kind == "data":
            out[c] = attack.fn(fed.clients[c].train, num_classes, rng, **attack.params)
        elif attack is not None and attack.kind == "adaptive":
            out[c] = label_flip(fed.clients[c].train, num_classes, rng)
    return out


@dataclass(frozen=True)
class _Clients:
    """The federation's clients, honest or not, producing one round's updates."""

    config: BaselineConfig
    fed: FederatedData
    model: Any
    train_cfg: TrainConfig
    behaviours: list[str]
    poisoned: dict[int, ArrayPair]

    def train(self, global_weights: Weights, rnd: int, c: int, data: ArrayPair | None) -> Weights:
        shard = self.fed.clients[c].train if data is None else data
        seed = _seed(self.config.seed, rnd, c)
        return train_local(self.model, shard, self.train_cfg, global_weights, seed).weights

    def updates(
        self, global_weights: Weights, rnd: int, picked: list[int]
    ) -> list[tuple[int, Weights, int]]:
        """``(client, weights, claimed samples)`` of each picked client, in order."""
        seed = self.config.seed
        out: dict[int, Weights] = {}
        samples = {c: self.fed.clients[c].num_samples for c in picked}
        colluders: dict[str, list[int]] = {}
        for c in picked:
            attack = ATTACKS.get(self.behaviours[c])
            honest = (
                self.train(global_weights, rnd, c, None)
                if attack is None or (attack.trains and attack.kind != "data")
                else global_weights
            )
            rng = np.random.default_rng([seed, rnd, c, 17])
            if attack is None or attack.kind == "collusion":
                out[c] = honest
                if attack is not None:
                    colluders.setdefault(attack.name, []).append(c)
            elif attack.kind == "data":
                out[c] = self.train(global_weights, rnd, c, self.poisoned[c])
            elif attack.kind == "model":
                out[c] = attack.fn(global_weights, honest, rng, **attack.params)
            elif attack.kind == "claim":
                out[c] = honest
                samples[c] = attack.fn(samples[c], **attack.params)
            else:  # adaptive: the label-flip update fitted inside the honest one's bounds
                bad = self.train(global_weights, rnd, c, self.poisoned[c])
                out[c] = attack.fn(global_weights, bad, honest, **attack.params)
        for name, group in colluders.items():
            attack = ATTACKS[name]
            rng = np.random.default_rng([seed, rnd, 23])
            forged = attack.fn(
                global_weights, [out[c] for c in group], self.config.clients, rng, **attack.params
            )
            out.update(zip(group, forged, strict=True))
        return [(c, out[c], samples[c]) for c in picked]


def _backdoor_success(
    model: Any, fed: FederatedData, weights: Weights, config: BaselineConfig
) -> float:
    """Share of triggered test inputs (true class not the target) classified as the target."""
    x, y = fed.test
    target = int(ATTACKS["backdoor"].params["target"])
    return attack_success_rate(
        lambda rows: predict(model, rows, weights, device=config.device),
        x,
        y,
        trigger_for(x.shape[1]),
        target,
    )
