"""Fixtures for the storage tests: stores in tmp dirs and the JavaScript CID oracle."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from flchain.storage import LocalStore

ORACLE = Path(__file__).parent / "oracle" / "unixfs_cid.mjs"

Oracle = Callable[[Sequence[Path], int], list[str]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ``ipfs`` on PATH the Kubo-daemon tests are deselected (said in the summary),
    unless asked for by name with ``-m kubo`` (``make test-kubo``), where they fail clearly."""
    if shutil.which("ipfs") is not None or "kubo" in (config.getoption("markexpr") or ""):
        return
    daemon = [item for item in items if item.get_closest_marker("kubo") is not None]
    if daemon:
        config.hook.pytest_deselected(items=daemon)
        items[:] = [item for item in items if item.get_closest_marker("kubo") is None]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture(scope="session")
def oracle(repo_root: Path) -> Oracle:
    """CIDs for files by the reference UnixFS importer (one node process per call)."""
    node = shutil.which("node")
    modules = repo_root / "node_modules"
    if node is None or not (modules / "ipfs-unixfs-importer").is_dir():
        pytest.skip("node and node_modules/ipfs-unixfs-importer are needed for the CID oracle")

    def run(files: Sequence[Path], cid_version: int) -> list[str]:
        args = [node, str(ORACLE), str(modules), str(cid_version), *map(str, files)]
        out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=600)
        return out.stdout.split()

    return run
