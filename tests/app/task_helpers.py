"""Writing small task modules (plain PyTorch) into a temporary directory, one name each."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

from flchain.app.module import ModuleProgram
from flchain.app.source import locate_task, task_program, task_spec
from flchain.learning.strategies import strategy_from_name
from flchain.task.evaluation import train_config
from flchain.task.spec import TaskSpec

_names = itertools.count()

MODEL = """
import numpy as np
import torch
from torch import nn


def model():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
"""

DATA = """
def load_partition(partition_id, num_partitions):
    rng = np.random.default_rng(partition_id)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    return (x[:40], y[:40]), (x[40:], y[40:])
"""


def write_task(tmp: Path, body: str = "", *, model: str = MODEL, data: str = DATA) -> Path:
    """A single-file task module (a fresh module name) of ``model``, ``data`` and ``body``."""
    path = tmp / f"probe_task_{next(_names)}.py"
    path.write_text(textwrap.dedent(model) + textwrap.dedent(data) + textwrap.dedent(body))
    return path


def spec_of(path: Path, clients: int = 3, miners: int = 2, **train: object) -> TaskSpec:
    """The spec ``flchain run --task path`` makes (``train``: options given)."""
    fields = {"clients": clients, "miners": miners, "rounds": 2, "committee": 2, "seed": 0}
    return task_spec(locate_task(path), train, **fields)


def program_of(path: Path, clients: int = 3, miners: int = 2) -> ModuleProgram:
    spec = spec_of(path, clients, miners)
    config = train_config(spec, strategy_from_name(spec.strategy))
    return task_program(locate_task(path), spec, config)
