"""Every kind of bad input gets its own clear error, and the store keeps working."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flchain.exceptions import (
    CIDError,
    ContentNotFoundError,
    IntegrityError,
    ObjectTooLargeError,
    StorageError,
)
from flchain.storage import CID, LocalStore, compute_cid
from flchain.storage.builder import CHUNK_SIZE
from flchain.storage.cid import DAG_PB, RAW


def _still_works(store: LocalStore) -> None:
    data = os.urandom(1000)
    assert store.get(store.put(data)) == data


def test_unknown_cid_is_not_found(store: LocalStore) -> None:
    cid = compute_cid(b"never stored")
    with pytest.raises(ContentNotFoundError, match=str(cid)):
        store.get(cid)
    assert not store.has(cid)
    _still_works(store)


@pytest.mark.parametrize(
    "text", ["", "hello", "bafy!!!", "Qm" + "0" * 44, "mAXASIA", "bafkqaaa", "zzzz"]
)
def test_malformed_cids_are_cid_errors(store: LocalStore, text: str) -> None:
    with pytest.raises(CIDError):
        store.get(text)
    _still_works(store)


def test_cid_of_another_codec_is_refused(store: LocalStore) -> None:
    cbor = "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua"  # dag-cbor
    with pytest.raises(CIDError, match="codec"):
        store.get(cbor)
    with pytest.raises(CIDError):
        CID(0, RAW, b"\0" * 32)
    _still_works(store)


def test_corrupted_block_on_disk_is_detected(store: LocalStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    cid = store.put(data)
    root = CID.parse(cid)
    leaf = next(p for p in (store.root / "blocks").rglob("*.data") if p != store.block_path(root))
    raw = bytearray(leaf.read_bytes())
    raw[100] ^= 0xFF
    leaf.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError, match="corrupted"):
        store.get(cid)
    with pytest.raises(IntegrityError):
        b"".join(store.iter_content(cid))
    _still_works(store)


def test_truncated_block_on_disk_is_detected(store: LocalStore) -> None:
    cid = store.put(os.urandom(CHUNK_SIZE))  # a single raw block
    path = store.block_path(CID.parse(cid))
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(IntegrityError):
        store.get(cid)
    _still_works(store)


def test_oversize_object_is_refused_before_reading_leaves(store: LocalStore) -> None:
    data = os.urandom(4 * CHUNK_SIZE)
    cid = store.put(data)
    root = CID.parse(cid)
    for path in (store.root / "blocks").rglob("*.data"):
        if path != store.block_path(root):
            path.unlink()  # if a leaf were read, this would be ContentNotFoundError
    with pytest.raises(ObjectTooLargeError, match="over the limit"):
        store.get(cid, max_size=len(data) - 1)
    _still_works(store)


def test_block_not_matching_its_cid_is_refused(store: LocalStore) -> None:
    with pytest.raises(IntegrityError):
        store.put_block(compute_cid(b"a"), b"b")
    _still_works(store)


def test_dag_lying_about_sizes_is_an_integrity_error(store: LocalStore) -> None:
    from flchain.storage.dagpb import Link, encode_node, unixfs_file

    leaf = b"x" * 10
    leaf_cid = CID.for_block(leaf, version=1, codec=RAW)
    store.put_block(leaf_cid, leaf)
    liar = encode_node(unixfs_file(b"", 1_000_000, (1_000_000,)), [Link(leaf_cid, 10, 10)])
    liar_cid = CID.for_block(liar, version=1, codec=DAG_PB)
    store.put_block(liar_cid, liar)
    with pytest.raises(IntegrityError, match="parent says"):
        store.get(liar_cid)
    _still_works(store)


def test_missing_input_file_is_a_storage_error(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot read"):
        store.put_file(tmp_path / "absent.bin")
    _still_works(store)
