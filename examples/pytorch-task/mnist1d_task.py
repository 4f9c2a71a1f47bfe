"""A task module in plain PyTorch: a small CNN on MNIST-1D, for ``flchain run --task``.

FLchain imports this one file (its bytes are certified by the task) and calls:

* ``model()`` for the initial model (every party builds the same, from the task seed);
* ``load_partition(partition_id, num_partitions)`` for a partition's
  ``(train, validation)`` data, each an ``(x, y)`` pair of NumPy arrays;
* ``train(model, data, config, seed)`` and ``evaluate(model, data)``: both optional
  (FLchain's own loop is the default); they are here to show a hand-written loop.

MNIST-1D (Greydanus, 2020) is generated locally with ``mnist1d``'s ``make_dataset``;
nothing is downloaded.
"""

from __future__ import annotations

import functools
import random
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

# Training settings (``flchain run --local-epochs/--lr/--batch-size`` override them).
EPOCHS = 2
LR = 0.005
BATCH_SIZE = 32


def model() -> nn.Module:
    """Two stride-2 1-D convolutions and a linear read-out: 40 values in, 10 classes out."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 40)),
        nn.Conv1d(1, 16, 5, stride=2, padding=2),
        nn.ReLU(),
        nn.Conv1d(16, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16 * 10, 10),
    )


@functools.cache
def _mnist1d() -> dict[str, np.ndarray]:
    """MNIST-1D's 4,000 training and 1,000 test sequences, made on this machine."""
    from mnist1d.data import get_dataset_args, make_dataset

    state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())  # reseeds the global RNGs itself
    finally:
        random.setstate(state)
        np.random.set_state(np_state)
    return {k: np.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")}


def load_partition(partition_id: int, num_partitions: int) -> tuple[Any, Any]:
    """An IID share of the training sequences (train) and of the test sequences
    (validation), the same on every machine (a fixed permutation)."""
    data = _mnist1d()

    def share(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.random.default_rng(42).permutation(len(y))
        idx = np.sort(np.array_split(order, num_partitions)[partition_id])
        return x[idx].astype(np.float32), y[idx].astype(np.int64)

    return share(data["x"], data["y"]), share(data["x_test"], data["y_test"])


def train(model: nn.Module, data: tuple[np.ndarray, np.ndarray], config: Any, seed: int) -> float:
    """Adam on cross-entropy for ``config.epochs``; the mean loss over its batches."""
    x, y = data
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=config.batch_size,
        shuffle=True,  # FLchain seeds torch's global RNG from ``seed`` for this call
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    criterion = nn.CrossEntropyLoss()
    model.train()
    losses: list[float] = []  # per batch

    def step(xb: torch.Tensor, yb: torch.Tensor) -> float:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    for _ in range(config.epochs):
        losses.extend(step(xb, yb) for xb, yb in loader)
    return sum(losses) / len(losses)


@torch.no_grad()
def evaluate(model: nn.Module, data: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
    """Mean cross-entropy and accuracy."""
    x, y = (torch.from_numpy(a) for a in data)
    model.eval()
    logits = model(x)
    loss = float(nn.functional.cross_entropy(logits, y))
    accuracy = float((logits.argmax(1) == y).float().mean())
    return {"loss": loss, "accuracy": accuracy}
