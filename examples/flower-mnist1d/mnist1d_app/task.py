"""mnist1d-app: the model, the data and the training loop (plain PyTorch)."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Sequential):
    """Three stride-2 1-D convolutions and a linear read-out (Greydanus, 2020)."""

    def __init__(self, length: int = 40, channels: int = 25) -> None:
        convs = [nn.Conv1d(1, channels, 5, stride=2, padding=1)]
        convs += [nn.Conv1d(channels, channels, 3, stride=2, padding=1) for _ in range(2)]
        layers = [layer for conv in convs for layer in (conv, nn.ReLU())]
        head = [nn.Flatten(), nn.Linear(channels * 5, 10)]
        super().__init__(nn.Unflatten(1, (1, length)), *layers, *head)


def _generate(num_samples: int) -> dict[str, np.ndarray]:
    """MNIST-1D generated locally (never downloaded), cached in the temp directory."""
    path = Path(tempfile.gettempdir()) / f"mnist1d-app-{num_samples}.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in ("x", "y", "x_test", "y_test")}
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = num_samples
    state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)  # reseeds the global RNGs from args.seed
    finally:
        random.setstate(state)
        np.random.set_state(np_state)
    arrays = {k: np.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")}
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as out:
        np.savez(out, **arrays)
    os.replace(tmp, path)
    return arrays


_CACHE: dict[int, dict[str, np.ndarray]] = {}


def load_data(
    partition_id: int, num_partitions: int, batch_size: int, num_samples: int = 4000
) -> tuple[DataLoader, DataLoader]:
    """An IID share of the training and of the test sequences for one partition."""
    if num_samples not in _CACHE:
        _CACHE[num_samples] = _generate(num_samples)
    data = _CACHE[num_samples]

    def share(x: np.ndarray, y: np.ndarray) -> TensorDataset:
        order = np.random.default_rng(42).permutation(len(y))
        idx = np.array_split(order, num_partitions)[partition_id]
        return TensorDataset(
            torch.tensor(x[idx], dtype=torch.float32), torch.tensor(y[idx], dtype=torch.long)
        )

    train = share(data["x"], data["y"])
    test = share(data["x_test"], data["y_test"])
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(test, batch_size=256)


def train(net: Net, loader: DataLoader, epochs: int, lr: float) -> float:
    """Train with Adam; the mean training loss."""
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    net.train()
    total, seen = 0.0, 0
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(net(x), y)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(y)
            seen += len(y)
    return total / seen


def test(net: Net, loader: DataLoader) -> tuple[float, float]:
    """Mean loss and accuracy."""
    criterion = nn.CrossEntropyLoss(reduction="sum")
    net.eval()
    loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = net(x)
            loss += float(criterion(out, y))
            correct += int((out.argmax(1) == y).sum())
            seen += len(y)
    return loss / seen, correct / seen
