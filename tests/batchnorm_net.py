"""A test model with integer buffers: a BatchNorm layer and buffers of its own."""

from __future__ import annotations

import torch


class BatchNormNet(torch.nn.Module):
    """A small CNN with a BatchNorm layer (its int64 ``num_batches_tracked``) and a bool
    and an int32 buffer of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.head = torch.nn.Linear(4, 3)
        self.register_buffer("mask", torch.tensor([True, False, True]))
        self.register_buffer("counts", torch.tensor([[3, -7], [2**31 - 1, -(2**31)]]).int())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        return torch.as_tensor(self.head(h))


def trained_batchnorm_net(seed: int, steps: int = 3) -> BatchNormNet:
    """A BatchNormNet after ``steps`` training-mode passes (running stats and counter moved)."""
    torch.manual_seed(seed)
    model = BatchNormNet()
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(torch.randn(8, 1, 6, 6))
    return model
