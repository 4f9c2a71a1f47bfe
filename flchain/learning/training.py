"""Local training and evaluation on NumPy arrays.

``train_local`` runs E epochs of SGD or Adam with mini-batches of size B from
the global weights, optionally with the FedProx proximal term
(μ/2)·‖w − w_global‖² (Li et al., "Federated Optimization in Heterogeneous
Networks", MLSys 2020). On CPU it is deterministic for a seed: shuffling uses
its own ``torch.Generator`` and the global torch RNG is left untouched. The
models here use only ops that are deterministic on CPU (linear, conv, pooling,
cross-entropy), so ``torch.use_deterministic_algorithms`` (a process-wide
switch) is not needed; call :func:`configure_torch` once to fix the thread count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from flchain.exceptions import ConfigError, LearningError
from flchain.learning.weights import get_weights, set_weights
from flchain.types import ArrayPair, Weights


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one client's local training."""

    epochs: int = 1
    batch_size: int = 32
    lr: float = 0.05
    optimizer: str = "sgd"
    momentum: float = 0.0
    weight_decay: float = 0.0
    proximal_mu: float = 0.0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch size must be >= 1")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"learning rate must be > 0, got {self.lr}")
        if self.optimizer not in ("sgd", "adam"):
            raise ConfigError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.proximal_mu < 0:
            raise ConfigError(f"proximal mu must be >= 0, got {self.proximal_mu}")


@dataclass(frozen=True)
class TrainResult:
    """What a client sends on: its new weights, its sample count and its mean training loss."""

    weights: Weights
    num_samples: int
    loss: float


def configure_torch(threads: int | None = None) -> None:
    """Set torch's CPU thread count; small models train fastest on one thread (the default)."""
    torch.set_num_threads(max(1, threads or 1))


def resolve_device(device: str) -> torch.device:
    """``"cpu"``, ``"cuda"`` or ``"cuda:N"``; a clear error when CUDA is missing."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {device!r}") from exc


def _tensors(data: ArrayPair, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = data
    if len(x) != len(y):
        raise LearningError(f"{len(x)} examples but {len(y)} labels")
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
    yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)).to(device)
    return xt, yt


def train_local(
    model: nn.Module,
    data: ArrayPair,
    config: TrainConfig,
    global_weights: Weights,
    seed: int,
) -> TrainResult:
    """Train ``model`` from ``global_weights`` on ``data`` and return the new weights."""
    if len(data[1]) == 0:
        raise LearningError("cannot train on an empty data set")
    device = resolve_device(config.device)
    model.to(device)
    set_weights(model, global_weights)
    x, y = _tensors(data, device)
    anchor = [p.detach().clone() for p in model.parameters()] if config.proximal_mu else []
    params = list(model.parameters())
    if config.optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(
            params, lr=config.lr, weight_decay=config.weight_decay
        )
    else:
        opt = torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    gen = torch.Generator().manual_seed(seed)
    n = len(y)
    total, seen = 0.0, 0
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=gen).to(device)
        for start in range(0, n, config.batch_size):
            idx = order[start : start + config.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = functional.cross_entropy(model(x[idx]), y[idx])
            objective = loss
            if anchor:
                prox = sum(((p - a) ** 2).sum() for p, a in zip(params, anchor, strict=True))
                objective = loss + 0.5 * config.proximal_mu * prox
            objective.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
    mean_loss = total / seen
    if not math.isfinite(mean_loss):
        raise LearningError("training diverged (loss is not finite); lower the learning rate")
    return TrainResult(weights=get_weights(model), num_samples=n, loss=mean_loss)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: ArrayPair,
    weights: Weights | None = None,
    batch_size: int = 2048,
    device: str = "cpu",
) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of ``model`` (loaded with ``weights`` if given)."""
    if len(data[1]) == 0:
        raise LearningError("cannot evaluate on an empty data set")
    dev = resolve_device(device)
    model.to(dev)
    if weights is not None:
        set_weights(model, weights)
    model.eval()
    x, y = _tensors(data, dev)
    correct, loss_sum = 0, 0.0
    for start in range(0, len(y), batch_size):
        logits = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        loss_sum += float(functional.cross_entropy(logits, target, reduction="sum"))
        correct += int((logits.argmax(dim=1) == target).sum())
    return correct / len(y), loss_sum / len(y)


def predict(
    model: nn.Module,
    x: np.ndarray,
    weights: Weights | None = None,
    batch_size: int = 2048,
    device: str = "cpu",
) -> np.ndarray:
    """The predicted class of every row of ``x`` (``model`` loaded with ``weights`` if given)."""
    dev = resolve_device(device)
    model.to(dev)
    if weights is not None:
        set_weights(model, weights)
    model.eval()
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(dev)
    with torch.no_grad():
        parts = [
            model(xt[s : s + batch_size]).argmax(dim=1).cpu().numpy()
            for s in range(0, len(xt), batch_size)
        ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
