"""LocalStore: round trips, pins, garbage collection, stat and streaming reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flchain.storage import CID, LocalStore, compute_cid
from flchain.storage.builder import CHUNK_SIZE


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, 3 * CHUNK_SIZE + 7])
@pytest.mark.parametrize("cid_version", [0, 1])
def test_put_get_round_trip(store: LocalStore, size: int, cid_version: int) -> None:
    data = os.urandom(size)
    cid = store.put(data, cid_version=cid_version)
    assert cid == compute_cid(data, cid_version).encode()
    assert store.get(cid) == data
    assert b"".join(store.iter_content(cid)) == data
    assert store.has(cid)
    stat = store.stat(cid)
    assert (stat.cid, stat.size) == (cid, size)


def test_put_file_equals_put_and_get_file_writes_it(store: LocalStore, tmp_path: Path) -> None:
    data = os.urandom(5 * CHUNK_SIZE + 11)
    src = tmp_path / "model.bin"
    src.write_bytes(data)
    cid = store.put_file(src)
    assert cid == store.put(data)
    out = tmp_path / "copy.bin"
    assert store.get_file(cid, out) == len(data)
    assert out.read_bytes() == data


def test_identical_content_is_stored_once(store: LocalStore) -> None:
    data = b"\0" * (4 * CHUNK_SIZE)
    store.put(data)
    blocks = list((store.root / "blocks").rglob("*.data"))
    assert len(blocks) == 2  # one zero chunk + the root


def test_gc_keeps_pinned_and_removes_unpinned(store: LocalStore) -> None:
    kept = os.urandom(3 * CHUNK_SIZE)
    dropped = os.urandom(3 * CHUNK_SIZE)
    keep_cid = store.put(kept)
    drop_cid = store.put(dropped, pin=False)
    assert store.pins() == [keep_cid]
    result = store.gc()
    assert result.removed_blocks == 4 and result.kept_blocks == 4
    assert store.get(keep_cid) == kept
    assert not store.has(drop_cid)


def test_unpin_then_gc_frees_the_dag(store: LocalStore) -> None:
    cid = store.put(os.urandom(2 * CHUNK_SIZE + 1), cid_version=0)
    assert store.unpin(cid) is True
    assert store.unpin(cid) is False
    assert store.gc().removed_blocks == 4
    assert store.pins() == []
    assert not store.has(cid)


def test_pin_requires_the_whole_dag(store: LocalStore) -> None:
    from flchain.exceptions import ContentNotFoundError

    cid = store.put(os.urandom(2 * CHUNK_SIZE + 1), pin=False)
    root = CID.parse(cid)
    leaf = next(p for p in (store.root / "blocks").rglob("*.data") if p != store.block_path(root))
    leaf.unlink()
    with pytest.raises(ContentNotFoundError):
        store.pin(cid)
    assert store.pins() == []


def test_gc_removes_leftover_temp_files(store: LocalStore) -> None:
    cid = store.put(b"payload")
    shard = store.block_path(CID.parse(cid)).parent
    (shard / ".tmp-999-deadbeef").write_bytes(b"half a block")
    assert store.gc().removed_temp_files == 1
    assert store.get(cid) == b"payload"


def test_two_handles_on_one_directory_see_each_other(tmp_path: Path) -> None:
    a, b = LocalStore(tmp_path / "s"), LocalStore(tmp_path / "s")
    cid = a.put(b"shared")
    assert b.get(cid) == b"shared"
    assert b.pins() == [cid]


def test_fsync_mode_stores_the_same(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s", fsync=True)
    data = os.urandom(2 * CHUNK_SIZE)
    assert store.get(store.put(data)) == data


def test_a_full_disk_is_a_store_write_error_and_leaves_nothing_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from flchain.exceptions import StoreWriteError

    store = LocalStore(tmp_path / "s")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StoreWriteError, match="No space left on device"):
        store.put(b"x" * 1000)
    monkeypatch.undo()
    leftovers = [p for p in (tmp_path / "s").rglob("*") if p.is_file() and "tmp" in p.name]
    assert leftovers == []
    assert store.get(store.put(b"x" * 1000)) == b"x" * 1000
