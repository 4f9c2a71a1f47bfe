"""Splitting a data set among clients and miners, reproducibly from a seed.

Schemes (the string goes into the task spec and on the command line):

* ``iid``: a uniform random split into near-equal parts.
* ``dirichlet:<alpha>``: label skew; for every class, the shares of the clients
  are drawn from Dir(α) (Hsu, Qi & Brown, 2019). Small α = very non-IID.
  Redrawn (up to 100 times) until every client holds ``min_size`` examples.
* ``shards:<s>``: pathological non-IID (McMahan et al., 2017): sort by label,
  cut into ``n_clients × s`` shards, deal ``s`` shards to each client.

:func:`split_for_federation` first holds out the miners' validation data from
the training pool, then partitions the rest among clients and cuts a local
test split from each client's part, so miners never score on data any client
trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flchain.exceptions import DatasetError
from flchain.learning.data import Dataset
from flchain.types import ArrayPair


@dataclass(frozen=True)
class ClientData:
    """One client's private data: a training split and a local test split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def train(self) -> ArrayPair:
        return self.x_train, self.y_train

    @property
    def test(self) -> ArrayPair:
        return self.x_test, self.y_test

    @property
    def num_samples(self) -> int:
        return int(self.y_train.shape[0])


@dataclass(frozen=True)
class FederatedData:
    """Everything a federation needs: per-client data, per-miner validation data, global test."""

    clients: tuple[ClientData, ...]
    miners: tuple[ArrayPair, ...]
    test: ArrayPair
    num_classes: int
    client_indices: tuple[np.ndarray, ...]
    miner_indices: tuple[np.ndarray, ...]


def parse_scheme(scheme: str) -> tuple[str, float]:
    """``"dirichlet:0.5"`` → ``("dirichlet", 0.5)``; validates the parameter."""
    kind, _, arg = scheme.strip().lower().partition(":")
    if kind == "iid":
        if arg:
            raise DatasetError(f"partition 'iid' takes no parameter, got {scheme!r}")
        return kind, 0.0
    if kind not in ("dirichlet", "shards"):
        raise DatasetError(
            f"unknown partition {scheme!r}; use iid, dirichlet:<alpha> or shards:<n>"
        )
    try:
        value = float(arg) if arg else (0.5 if kind == "dirichlet" else 2.0)
    except ValueError as exc:
        raise DatasetError(f"partition {scheme!r}: parameter must be a number") from exc
    if kind == "dirichlet" and not (value > 0 and np.isfinite(value)):
        raise DatasetError(f"partition {scheme!r}: alpha must be > 0")
    if kind == "shards" and (value < 1 or value != int(value)):
        raise DatasetError(f"partition {scheme!r}: shards per client must be a positive integer")
    return kind, value


def partition(
    y: np.ndarray, n_clients: int, scheme: str = "iid", seed: int = 0, min_size: int = 1
) -> list[np.ndarray]:
    """Split example indices ``0..len(y)-1`` among ``n_clients``; each result is sorted."""
    y = np.asarray(y)
    if n_clients < 1:
        raise DatasetError(f"need at least one client, got {n_clients}")
    if len(y) < n_clients * min_size:
        raise DatasetError(
            f"{len(y)} examples cannot give {n_clients} clients {min_size} example(s) each"
        )
    kind, value = parse_scheme(scheme)
    rng = np.random.default_rng(seed)
    if kind == "iid":
        parts = np.array_split(rng.permutation(len(y)), n_clients)
    elif kind == "dirichlet":
        parts = _dirichlet(y, n_clients, value, rng, min_size)
    else:
        parts = _shards(y, n_clients, int(value), rng)
    return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]


def _dirichlet(
    y: np.ndarray, n: int, alpha: float, rng: np.random.Generator, min_size: int
) -> list[np.ndarray]:
    classes = np.unique(y)
    for _ in range(100):
        buckets: list[list[np.ndarray]] = [[] for _ in range(n)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(y == c))
            shares = rng.dirichlet(np.full(n, alpha))
            cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(np.int64)
            for client, chunk in enumerate(np.split(idx, cuts)):
                buckets[client].append(chunk)
        parts = [np.concatenate(b) for b in buckets]
        if min(len(p) for p in parts) >= min_size:
            return parts
    raise DatasetError(
        f"dirichlet:{alpha} could not give each of {n} clients {min_size} examples in 100 draws"
    )


def _shards(y: np.ndarray, n: int, per_client: int, rng: np.random.Generator) -> list[np.ndarray]:
    total = n * per_client
    if total > len(y):
        raise DatasetError(
            f"shards:{per_client} needs {total} shards but there are {len(y)} examples"
        )
    order = np.argsort(y, kind="stable")
    shards = np.array_split(order, total)
    deal = rng.permutation(total)
    return [
        np.concatenate([shards[s] for s in deal[i * per_client : (i + 1) * per_client]])
        for i in range(n)
    ]


def split_for_federation(
    dataset: Dataset,
    n_clients: int,
    n_miners: int = 0,
    scheme: str = "iid",
    seed: int = 0,
    validation_fraction: float = 0.1,
    client_test_fraction: float = 0.1,
    min_client_size: int = 2,
) -> FederatedData:
    """Hold out miner validation data, partition the rest among clients, cut local test splits.

    ``validation_fraction`` of the training pool (stratified by nothing, just a
    seeded permutation) is shared out IID among the ``n_miners``; with no miners
    nothing is held out. Each client keeps ``client_test_fraction`` of its own
    part as a local test split (at least one example when the fraction is > 0).
    """
    if not 0 <= validation_fraction < 1 or not 0 <= client_test_fraction < 1:
        raise DatasetError("validation and client test fractions must be in [0, 1)")
    if n_miners < 0:
        raise DatasetError(f"number of miners must be >= 0, got {n_miners}")
    rng = np.random.default_rng([seed, 1])
    pool = rng.permutation(len(dataset.y_train))
    n_val = round(len(pool) * validation_fraction) if n_miners > 0 else 0
    if n_miners > 0 and n_val < n_miners:
        raise DatasetError(f"{n_val} validation examples cannot serve {n_miners} miners")
    val_pool, train_pool = np.sort(pool[:n_val]), np.sort(pool[n_val:])
    miner_idx = tuple(np.sort(p) for p in np.array_split(val_pool, n_miners)) if n_miners else ()
    local = partition(dataset.y_train[train_pool], n_clients, scheme, seed, min_client_size)
    clients: list[ClientData] = []
    client_idx: list[np.ndarray] = []
    for i, part in enumerate(local):
        idx = train_pool[part]
        order = np.random.default_rng([seed, 2, i]).permutation(len(idx))
        n_test = max(1, round(len(idx) * client_test_fraction)) if client_test_fraction > 0 else 0
        n_test = min(n_test, len(idx) - 1)
        te, tr = np.sort(idx[order[:n_test]]), np.sort(idx[order[n_test:]])
        x, y = dataset.x_train, dataset.y_train
        clients.append(ClientData(x[tr], y[tr], x[te], y[te]))
        client_idx.append(idx)
    miners = tuple((dataset.x_train[m], dataset.y_train[m]) for m in miner_idx)
    return FederatedData(
        clients=tuple(clients),
        miners=miners,
        test=(dataset.x_test, dataset.y_test),
        num_classes=dataset.num_classes,
        client_indices=tuple(client_idx),
        miner_indices=miner_idx,
    )
