"""legacy-app: an MLP, MNIST-1D partitions and the training loop (plain PyTorch)."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn


class Net(nn.Module):
    """40-64-10 fully connected ReLU network."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(40, 64)
        self.out = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))


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
        data = make_dataset(args)
    finally:
        random.setstate(state)
        np.random.set_state(np_state)
    arrays = {k: np.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")}
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as out:
        np.savez(out, **arrays)
    os.replace(tmp, path)
    return arrays


def load_partition(
    partition_id: int, num_partitions: int, num_samples: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """An IID share of the training and of the test sequences."""
    data = _generate(num_samples)

    def share(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.random.default_rng(7).permutation(len(y))
        idx = np.array_split(order, num_partitions)[partition_id]
        return x[idx].astype(np.float32), y[idx].astype(np.int64)

    return share(data["x"], data["y"]), share(data["x_test"], data["y_test"])


def train(
    net: Net, data: tuple[np.ndarray, np.ndarray], epochs: int, batch: int, lr: float
) -> float:
    x, y = torch.from_numpy(data[0]), torch.from_numpy(data[1])
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    total = 0.0
    for _ in range(epochs):
        order = torch.randperm(len(y))
        for start in range(0, len(y), batch):
            idx = order[start : start + batch]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
    return total / (epochs * len(y))


def test(net: Net, data: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    x, y = torch.from_numpy(data[0]), torch.from_numpy(data[1])
    net.eval()
    with torch.no_grad():
        out = net(x)
        loss = float(nn.functional.cross_entropy(out, y))
        accuracy = float((out.argmax(1) == y).float().mean())
    return loss, accuracy


def get_weights(net: Net) -> list[np.ndarray]:
    return [v.cpu().numpy() for _, v in net.state_dict().items()]


def set_weights(net: Net, parameters: list[np.ndarray]) -> None:
    keys = net.state_dict().keys()
    net.load_state_dict({k: torch.tensor(v) for k, v in zip(keys, parameters, strict=True)})
