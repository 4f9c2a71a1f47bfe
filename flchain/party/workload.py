"""The learning side of a task, built identically by every party from the spec.

A task runs one :class:`~flchain.app.program.TaskProgram`: the built-in task
module (``spec.app`` and ``spec.task`` empty), a user's task module named
``spec.task.name`` whose source archive CID is ``spec.task.cid`` (see
:mod:`flchain.app.module`), or the Flower app whose archive CID is ``spec.app``;
an app or a module from a local copy that must hash to that CID (see
:mod:`flchain.app.archive`). Partition ids are those of
:class:`~flchain.app.program.Partitions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from flchain.app.builtin import BuiltinProgram, builtin_program
from flchain.app.module import ModuleProgram
from flchain.app.program import Partitions, TaskProgram
from flchain.exceptions import ConfigError
from flchain.learning.strategies import Strategy, strategy_from_name
from flchain.storage.codec import ArchitectureSpec
from flchain.task.evaluation import train_config
from flchain.task.spec import TaskSpec


@dataclass
class Workload:
    """The task's program, model architecture and strategy."""

    spec: TaskSpec
    program: TaskProgram
    arch: ArchitectureSpec
    strategy: Strategy

    @property
    def builtin(self) -> BuiltinProgram:
        """The built-in program (its data and model), for what only it can do."""
        if not isinstance(self.program, BuiltinProgram):
            raise ConfigError("this needs the built-in data and model; the task runs an app")
        return self.program


def load_workload(
    spec: TaskSpec,
    *,
    threads: int = 1,
    app_dir: Path | None = None,
    task_module: str | None = None,
) -> Workload:
    """Build the task's learning side (one torch thread by default: cores are shared);
    ``app_dir``, ``task_module``: the local copy of the task's app or module."""
    torch.set_num_threads(threads)
    strategy = strategy_from_name(spec.strategy, **spec.strategy_params)
    if strategy.requires_root:
        raise ConfigError(
            f"strategy {spec.strategy!r} needs a trusted root data set, which a task "
            "run by independent processes does not have; pick another strategy"
        )
    program: TaskProgram
    if spec.task.cid:
        program = module_program(spec, strategy, task_module)
    else:
        program = load_program(spec, strategy, app_dir)
    arch = ArchitectureSpec.from_weights(program.initial_weights())
    return Workload(spec, program, arch, strategy)


def load_program(spec: TaskSpec, strategy: Strategy, app_dir: Path | None) -> TaskProgram:
    """The spec's program: built in, or the certified app from ``app_dir``."""
    if not spec.app:
        return builtin_program(
            spec.dataset,
            spec.partition,
            spec.arch,
            spec.seed,
            spec.clients,
            spec.miners,
            train_config(spec, strategy),
        )
    if app_dir is None:
        raise ConfigError(f"this task runs the app {spec.app}: give a copy of it with --app DIR")
    from flchain.app.archive import verify_app
    from flchain.app.config import AppConfig
    from flchain.app.flower import FlowerProgram

    verify_app(app_dir, spec.app)
    return FlowerProgram(AppConfig.load(app_dir), Partitions(spec.clients, spec.miners), spec.seed)


def module_program(spec: TaskSpec, strategy: Strategy, reference: str | None) -> ModuleProgram:
    """The certified task module, from the local copy ``reference`` (checked before it is
    imported)."""
    if reference is None:
        raise ConfigError(
            f"this task runs the task module {spec.task.name} ({spec.task.cid}): give a copy "
            "of it with --task-module"
        )
    from flchain.app.source import locate_task, task_program, verify_task

    source = locate_task(reference)
    verify_task(source, spec.task)
    return task_program(source, spec, train_config(spec, strategy))
