"""Where a task module's code lives, what of it the chain certifies, and importing it.

A task module is named on the command line as a path (``path/to/task.py``, or a
package directory) or as an importable module (``pkg.module``). Its source is
what the chain certifies:

* a module outside any package: that one file (the archive holds ``task.py``);
* a module inside a package: the whole top-level package directory (the archive
  holds ``pkg/__init__.py``, ``pkg/module.py``, ...), so its sibling modules are
  certified too.

The archive is :mod:`flchain.app.archive`'s canonical tar, so the same sources give
the same CID on any machine. ``flchain run`` pins it and writes the module's name
and CID into the task spec (``TaskSpec.task``); every party checks its local copy
against both (:func:`verify_task`) before it imports anything, and the auditor
fetches the archive by CID and imports the module from it (:func:`fetch_task`).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from flchain.app.archive import app_files, fetch_app, pack_files, refuse_mismatch
from flchain.app.calls import describe
from flchain.app.module import ModuleProgram, TaskModule
from flchain.app.program import Partitions
from flchain.exceptions import AppError, ConfigError
from flchain.learning.training import TrainConfig
from flchain.storage import compute_cid
from flchain.storage.base import ContentStore
from flchain.task.spec import ModuleSpec, TaskSpec, TrainSpec

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True)
class TaskSource:
    """A task module's code: its dotted import ``name``, its own file ``path``
    (``__init__.py`` for a package), the ``root`` directory it is imported from (the top
    package's parent), and the archive's entries ``files``: (archive path, file), in
    archive order."""

    name: str
    path: Path
    root: Path
    files: tuple[tuple[str, Path], ...]

    @property
    def packaged(self) -> bool:
        """Whether the module is part of a package (the archive holds the package)."""
        return len(self.files) != 1 or "/" in self.files[0][0]

    def archive(self) -> bytes:
        """The canonical archive of the module's source."""
        return pack_files(list(self.files), f"task module {self.name} ({self.path})")

    def cid(self) -> str:
        return str(compute_cid(self.archive()))

    def spec(self) -> ModuleSpec:
        """What the task spec records of this module."""
        return ModuleSpec(self.name, self.cid())


def locate_task(reference: str | Path) -> TaskSource:
    """The source of the task module ``reference``: a ``.py`` file, a package directory or
    an importable dotted module name; a ConfigError naming what was not found."""
    text = str(reference)
    path = Path(text)
    if text.endswith(".py") or path.exists() or "/" in text or not _DOTTED.fullmatch(text):
        if path.is_dir() and (path / "__init__.py").is_file():
            path = path / "__init__.py"
        if not path.is_file() or path.suffix != ".py":
            raise ConfigError(
                f"task module {text!r} is neither a .py file nor an importable module "
                "(give path/to/task.py or pkg.module)"
            )
        return _from_file(path)
    try:
        found = importlib.util.find_spec(text)
    except Exception as exc:  # importing a parent package ran its code and it failed
        raise AppError(f"cannot find the task module {text!r}: {describe(exc)}") from exc
    if found is None or not found.origin or not found.origin.endswith(".py"):
        raise ConfigError(
            f"no module named {text!r} on the Python path; give path/to/task.py or pkg.module"
        )
    return _from_file(Path(found.origin))


def _from_file(path: Path) -> TaskSource:
    path = path.resolve()
    parts = [] if path.name == "__init__.py" else [path.stem]
    top: Path | None = None
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        top, folder = folder, folder.parent
    if top is None:
        if not _DOTTED.fullmatch(path.stem):
            raise ConfigError(f"task module file {path.name!r} is not a valid module name")
        return TaskSource(path.stem, path, path.parent, ((path.name, path),))
    name = ".".join(parts)
    if not _DOTTED.fullmatch(name):
        raise ConfigError(f"task module {path} would be imported as {name!r}, not a module name")
    files = tuple((f"{top.name}/{rel}", file) for rel, file in app_files(top))
    return TaskSource(name, path, top.parent, files)


def verify_task(source: TaskSource, certified: ModuleSpec) -> None:
    """Refuse a local copy that is not the certified module: another archive (naming both
    CIDs) or another module of the same archive."""
    refuse_mismatch(f"the task module {source.name} in {source.path}", source.cid(), certified.cid)
    if source.name != certified.name:
        raise ConfigError(
            f"the local task module is {source.name!r}, but the task runs {certified.name!r}"
        )


def import_task(source: TaskSource) -> ModuleType:
    """Import the module; any error it raises becomes an AppError naming the module."""
    try:
        module = _import_packaged(source) if source.packaged else _import_file(source)
    except AppError:
        raise
    except Exception as exc:
        raise AppError(
            f"cannot import the task module {source.name} ({source.path}): {describe(exc)}"
        ) from exc
    return module


def _import_file(source: TaskSource) -> ModuleType:
    """A lone file, imported under its name without touching ``sys.path``."""
    loaded = sys.modules.get(source.name)
    if loaded is not None and _file_of(loaded) == source.path:
        return loaded
    spec = importlib.util.spec_from_file_location(source.name, source.path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[source.name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(source.name, None)
        raise
    return module


def _import_packaged(source: TaskSource) -> ModuleType:
    root = str(source.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    module = importlib.import_module(source.name)
    if _file_of(module) != source.path:
        raise AppError(
            f"task module {source.name} was imported from {_file_of(module)}, not {source.path}: "
            "another module of that name comes first on the Python path"
        )
    return module


def _file_of(module: ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def task_spec(source: TaskSource, train: Mapping[str, Any], **fields: Any) -> TaskSpec:
    """The spec of a task running ``source``: the module's training settings, then ``train``
    (command-line options), then the defaults; ``fields``: the spec's other fields."""
    module = TaskModule.of(import_task(source), source.name)
    settings = {**module.config, **train}
    return TaskSpec(
        dataset="task",
        partition="task",
        arch=f"task:{source.name}",
        train=TrainSpec(**settings),
        task=source.spec(),
        **fields,
    )


def task_program(source: TaskSource, spec: TaskSpec, config: TrainConfig) -> ModuleProgram:
    """The program of a (checked) task module's source, for the task ``spec``."""
    task = TaskModule.of(import_task(source), source.name)
    return ModuleProgram(task, Partitions(spec.clients, spec.miners), spec.seed, config)


def fetch_task(store: ContentStore, certified: ModuleSpec, dest: Path) -> TaskSource:
    """The certified module's source, fetched by its CID into ``dest`` and checked."""
    root = fetch_app(store, certified.cid, dest)
    relative = certified.name.replace(".", "/")
    for candidate in (root / f"{relative}.py", root / relative / "__init__.py"):
        if candidate.is_file():
            source = _from_file(candidate)
            verify_task(source, certified)
            return source
    raise ConfigError(f"the task archive {certified.cid} holds no module {certified.name!r}")


__all__ = [
    "TaskSource",
    "fetch_task",
    "import_task",
    "locate_task",
    "task_program",
    "task_spec",
    "verify_task",
]
