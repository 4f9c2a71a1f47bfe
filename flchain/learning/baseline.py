"""Plain in-process federated learning: the yardstick FLchain is compared against.

No chain, no storage, no network: every round, the selected clients train
from the global model, malicious ones replace their update by an attack,
updates are optionally privatised (clip + noise) and compressed, and the
strategy aggregates them. The result reports final test accuracy, accuracy
after every round and wall-clock time.

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
from flchain.learning.attacks import MaliciousSpec, choose_malicious, parse_malicious
from flchain.learning.compression import Compressor, decompress
from flchain.learning.data import load_dataset
from flchain.learning.models import ARCHITECTURES, build_model, default_arch
from flchain.learning.partition import split_for_federation
from flchain.learning.strategies import ClientUpdate, StrategyState, strategy_from_name
from flchain.learning.strategies.trust import FLTrust
from flchain.learning.training import TrainConfig, configure_torch, evaluate, train_local
from flchain.learning.weights import Weights, get_weights, num_parameters


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
    spec = parse_malicious(config.malicious) if config.malicious else None
    bad = choose_malicious(config.clients, spec.fraction, config.seed) if spec else []
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
    raw_bytes = 4 * num_parameters(global_weights)
    sent: list[int] = []
    state: StrategyState | None = None
    curve: list[float] = []
    acc, loss = 0.0, 0.0
    per_round = max(1, round(config.fraction_fit * config.clients))
    for rnd in range(config.rounds):
        picked = sorted(
            np.random.default_rng([config.seed, rnd, 3]).permutation(config.clients)[:per_round]
        )
        updates = []
        for c in picked:
            c = int(c)
            local = _client_update(
                config,
                model,
                fed.clients[c].train,
                train_cfg,
                global_weights,
                rnd,
                c,
                spec,
                c in bad,
            )
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
            n = fed.clients[c].num_samples
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
        malicious_clients=bad,
        bytes_per_update_raw=raw_bytes,
        bytes_per_update_sent=float(np.mean(sent)) if sent else float(raw_bytes),
        epsilon=accountant.epsilon(config.dp_delta) if accountant else None,
        config=config,
    )


def _client_update(
    config: BaselineConfig,
    model: Any,
    data: tuple[np.ndarray, np.ndarray],
    train_cfg: TrainConfig,
    global_weights: Weights,
    rnd: int,
    client: int,
    spec: MaliciousSpec | None,
    malicious: bool,
) -> Weights:
    if spec is None or not malicious:
        return train_local(
            model, data, train_cfg, global_weights, _seed(config.seed, rnd, client)
        ).weights
    if spec.kind == "free-rider":
        return spec.attack()(global_weights, global_weights, np.random.default_rng(0))
    local = train_local(
        model, data, train_cfg, global_weights, _seed(config.seed, rnd, client)
    ).weights
    rng = np.random.default_rng([config.seed, rnd, client, 17])
    return spec.attack()(global_weights, local, rng)
