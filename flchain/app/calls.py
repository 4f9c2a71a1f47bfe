"""Calling a task's own code: its global RNGs seeded per call, its errors described.

Shared by the Flower adapter and the module program; imports nothing of Flower.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


def describe(exc: BaseException) -> str:
    """An exception and where in the task's code it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed ``random``, NumPy and torch for one call; restore their states afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)
        np.random.seed(seed & 0xFFFFFFFF)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


__all__ = ["describe", "seeded"]
