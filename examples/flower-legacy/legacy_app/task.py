"""legacy-app: an MLP, scikit-learn digits partitions and the training loop (plain PyTorch)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn


class Net(nn.Module):
    """64-64-10 fully connected ReLU network."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(64, 64)
        self.out = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))


TEST_FRACTION = 0.2
"""The share of the 1 797 digits every partition holds out for testing."""


def load_partition(
    partition_id: int, num_partitions: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """An IID share of the training and of the test digits (8x8 images, scaled to [0, 1])."""
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(7).permutation(len(y))
    cut = int(len(y) * TEST_FRACTION)

    def share(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.array_split(rows, num_partitions)[partition_id]
        return (x[idx] / 16.0).astype(np.float32), y[idx].astype(np.int64)

    return share(order[cut:]), share(order[:cut])


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
