"""Small models by name; the architecture id goes into the task spec.

Every model takes flat rows (as :class:`~flchain.learning.data.Dataset` stores
them) and reshapes internally. ``build_model(arch_id, seed)`` is deterministic:
the same id and seed give bit-identical initial weights on any CPU.

The MNIST-1D CNN follows the reference model of Greydanus (2020): three
stride-2 1-D convolutions of 25 channels and a linear read-out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from flchain.exceptions import ConfigError
from flchain.learning.data import family


class MLP(nn.Module):
    """Fully connected ReLU network."""

    def __init__(self, sizes: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(itertools.pairwise(sizes)):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.in_features = sizes[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x.reshape(x.shape[0], self.in_features))
        return out


class ImageCNN(nn.Module):
    """Two conv-ReLU-pool blocks and a linear head for square C×S×S images."""

    def __init__(self, channels: int, side: int, widths: tuple[int, int], hidden: int) -> None:
        super().__init__()
        self.shape = (channels, side, side)
        c1, c2 = widths
        self.features = nn.Sequential(
            nn.Conv2d(channels, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        flat = c2 * (side // 4) ** 2
        head: list[nn.Module] = [nn.Flatten()]
        head += (
            [nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, 10)]
            if hidden
            else [nn.Linear(flat, 10)]
        )
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x.reshape(x.shape[0], *self.shape)))
        return out


class SeqCNN(nn.Module):
    """The MNIST-1D reference CNN: three stride-2 Conv1d layers, 25 channels."""

    def __init__(self, length: int = 40, channels: int = 25) -> None:
        super().__init__()
        self.length = length
        self.conv = nn.Sequential(
            nn.Conv1d(1, channels, 5, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            flat = self.conv(torch.zeros(1, 1, length)).shape[1]
        self.linear = nn.Linear(flat, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.linear(self.conv(x.reshape(x.shape[0], 1, self.length)))
        return out


@dataclass(frozen=True)
class Architecture:
    """A registered model: its constructor and the data it expects."""

    arch_id: str
    factory: Callable[[], nn.Module]
    num_features: int
    datasets: tuple[str, ...]
    description: str


ARCHITECTURES: dict[str, Architecture] = {
    a.arch_id: a
    for a in (
        Architecture("digits-mlp", lambda: MLP((64, 128, 10)), 64, ("digits",), "MLP 64-128-10"),
        Architecture(
            "digits-cnn", lambda: ImageCNN(1, 8, (16, 32), 0), 64, ("digits",), "CNN 1×8×8"
        ),
        Architecture(
            "mnist1d-mlp", lambda: MLP((40, 100, 100, 10)), 40, ("mnist1d",), "MLP 40-100-100-10"
        ),
        Architecture("mnist1d-cnn", lambda: SeqCNN(40), 40, ("mnist1d",), "Conv1d ×3, 25 ch"),
        Architecture(
            "mnist-mlp",
            lambda: MLP((784, 200, 10)),
            784,
            ("mnist", "fashion-mnist"),
            "MLP 784-200-10",
        ),
        Architecture(
            "mnist-cnn",
            lambda: ImageCNN(1, 28, (16, 32), 128),
            784,
            ("mnist", "fashion-mnist"),
            "CNN 1×28×28",
        ),
        Architecture(
            "cifar-cnn", lambda: ImageCNN(3, 32, (32, 64), 128), 3072, ("cifar10",), "CNN 3×32×32"
        ),
    )
}

DEFAULT_ARCH: dict[str, str] = {
    "digits": "digits-mlp",
    "mnist1d": "mnist1d-cnn",
    "mnist": "mnist-cnn",
    "fashion-mnist": "mnist-cnn",
    "cifar10": "cifar-cnn",
}


def build_model(arch_id: str, seed: int = 0) -> nn.Module:
    """Instantiate a registered architecture with weights initialised from ``seed``."""
    arch = ARCHITECTURES.get(arch_id)
    if arch is None:
        raise ConfigError(f"unknown architecture {arch_id!r}; known: {', '.join(ARCHITECTURES)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = arch.factory()
    return model


def default_arch(dataset_name: str, num_features: int) -> str:
    """The architecture to use for a data set when the user names none."""
    name = family(dataset_name)
    if name in DEFAULT_ARCH:
        return DEFAULT_ARCH[name]
    for arch in ARCHITECTURES.values():
        if arch.num_features == num_features:
            return arch.arch_id
    raise ConfigError(f"no registered architecture takes {num_features} input features")
