"""Against a real Kubo node: our CIDs equal `ipfs add`'s, and KuboStore round-trips.

Runs in ``make test`` where ``ipfs`` is on PATH and is deselected elsewhere
(``test_libkubo.py`` runs Kubo's own code without a daemon); ``make test-kubo``
asks for it by name and fails if ``ipfs`` is missing. It starts an offline daemon with the
``test`` profile (every address on 127.0.0.1, random ports) in tmp_path.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flchain.storage import LocalStore, compute_file_cid
from flchain.storage.builder import CHUNK_SIZE, MAX_LINKS
from flchain.storage.kubo import KuboStore

IPFS = shutil.which("ipfs")
pytestmark = pytest.mark.kubo


@pytest.fixture(scope="module")
def kubo_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    if IPFS is None:
        pytest.fail("Kubo (`ipfs`) is not on PATH: install Kubo to run `make test-kubo`")
    repo = tmp_path_factory.mktemp("ipfs")
    env = {**os.environ, "IPFS_PATH": str(repo)}
    subprocess.run([IPFS, "init", "--profile=test"], env=env, check=True, capture_output=True)
    daemon = subprocess.Popen(
        [IPFS, "daemon", "--offline"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    api_file = repo / "api"
    deadline = time.monotonic() + 60
    while not api_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if not api_file.exists():
        daemon.kill()
        pytest.fail("Kubo daemon did not start")
    parts = api_file.read_text().strip().split("/")  # /ip4/127.0.0.1/tcp/PORT
    yield env, f"http://{parts[2]}:{parts[4]}"
    daemon.terminate()
    daemon.wait(30)


@pytest.fixture
def kubo(kubo_env: tuple[dict[str, str], str]) -> Iterator[KuboStore]:
    store = KuboStore(kubo_env[1], timeout=10)
    yield store
    store.close()


@pytest.mark.parametrize("cid_version", [0, 1])
def test_ipfs_add_agrees_at_boundary_sizes(
    kubo_env: tuple[dict[str, str], str], tmp_path: Path, cid_version: int
) -> None:
    env, _ = kubo_env
    assert IPFS is not None
    for size in (
        0,
        1,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        1 << 20,
        MAX_LINKS * CHUNK_SIZE + 1,
    ):
        path = tmp_path / f"f{size}"
        path.write_bytes(os.urandom(size))
        flags = ["--cid-version=1", "--raw-leaves"] if cid_version else []
        out = subprocess.run(
            [IPFS, "add", "-Q", "--only-hash", *flags, str(path)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        assert out.stdout.strip() == compute_file_cid(path, cid_version).encode(), size


def test_kubo_store_round_trip_and_pins(kubo: KuboStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)
    for version in (0, 1):
        cid = kubo.put(data, cid_version=version)
        assert kubo.get(cid) == data
        assert b"".join(kubo.iter_content(cid)) == data
        assert kubo.stat(cid).size == len(data)
        assert cid in kubo.pins()
        assert kubo.unpin(cid) is True
        assert kubo.unpin(cid) is False


def test_car_moves_between_kubo_and_local(kubo: KuboStore, tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "s")
    data = os.urandom(2 * CHUNK_SIZE + 3)
    cid = kubo.put(data)
    car = io.BytesIO()
    kubo.export_car([cid], car)
    assert local.import_car(io.BytesIO(car.getvalue())) == [cid]
    assert local.get(cid) == data

    other = os.urandom(CHUNK_SIZE + 9)
    local_cid = local.put(other, cid_version=0)
    car = io.BytesIO()
    local.export_car([local_cid], car)
    assert kubo.import_car(io.BytesIO(car.getvalue())) == [local_cid]
    assert kubo.get(local_cid) == other
