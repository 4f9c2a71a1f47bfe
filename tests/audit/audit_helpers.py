"""Shared values of the audit tests (kept out of conftest.py so test modules can import them)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from flchain.chain.node import NodeProcess
from flchain.simulation.synthetic import SyntheticRun
from flchain.storage import LocalStore

ATTACKERS = {0: "signflip", 1: "free-rider"}
SILENT_MINER = 2


@dataclass(frozen=True)
class BuiltTask:
    """A synthetic task: the node it lives on, its store directory and what was built."""

    node: NodeProcess
    store_dir: Path
    run: SyntheticRun

    def copy_store(self, dest: Path) -> LocalStore:
        shutil.copytree(self.store_dir, dest)
        return LocalStore(dest)
