"""CARv1 export/import between stores, with every block verified on the way in."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from flchain.exceptions import CIDError, IntegrityError, StorageError
from flchain.storage import CID, LocalStore
from flchain.storage.builder import CHUNK_SIZE
from flchain.storage.car import encode_header, export_car, import_car, read_car
from flchain.storage.cid import encode_varint


def _exported(store: LocalStore) -> tuple[list[str], dict[str, bytes], bytes]:
    cids = [
        store.put(os.urandom(3 * CHUNK_SIZE + 5)),
        store.put(os.urandom(100), cid_version=0),
        store.put(b"\1" * (2 * CHUNK_SIZE)),
    ]
    contents = {cid: store.get(cid) for cid in cids}
    buf = io.BytesIO()
    export_car(store, list(contents), buf)
    return list(contents), contents, buf.getvalue()


def test_round_trip_between_stores(tmp_path: Path) -> None:
    src, dst = LocalStore(tmp_path / "a"), LocalStore(tmp_path / "b")
    cids, contents, car = _exported(src)
    roots = import_car(dst, io.BytesIO(car))
    assert roots == cids
    assert sorted(dst.pins()) == sorted(cids)
    for cid in cids:
        assert dst.get(cid) == contents[cid]


def test_blocks_are_written_once_root_first(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    cid = store.put(b"\7" * (3 * CHUNK_SIZE))
    buf = io.BytesIO()
    assert export_car(store, [cid, cid], buf) == 2  # root + one deduplicated leaf
    roots, blocks = read_car(io.BytesIO(buf.getvalue()))
    listed = [c.encode() for c, _ in blocks]
    assert [r.encode() for r in roots] == [cid, cid]
    assert listed[0] == cid and len(listed) == 2


def test_import_refuses_a_tampered_block(tmp_path: Path) -> None:
    _, _, car = _exported(LocalStore(tmp_path / "a"))
    bad = bytearray(car)
    bad[-10] ^= 0xFF
    dst = LocalStore(tmp_path / "b")
    with pytest.raises(IntegrityError, match="does not hash"):
        import_car(dst, io.BytesIO(bytes(bad)))
    assert dst.pins() == []


def test_import_refuses_truncation_and_garbage(tmp_path: Path) -> None:
    _, _, car = _exported(LocalStore(tmp_path / "a"))
    dst = LocalStore(tmp_path / "b")
    with pytest.raises(IntegrityError, match="truncated"):
        import_car(dst, io.BytesIO(car[:-3]))
    with pytest.raises(IntegrityError):
        import_car(dst, io.BytesIO(b"\x05hello"))
    with pytest.raises(IntegrityError, match="not a CAR"):
        import_car(dst, io.BytesIO(b""))


def test_import_refuses_incomplete_dags(tmp_path: Path) -> None:
    src = LocalStore(tmp_path / "a")
    cid = src.put(os.urandom(2 * CHUNK_SIZE + 1))
    root = CID.parse(cid)
    block = src.get_block(root)
    raw = root.to_bytes()
    car = encode_header([root]) + encode_varint(len(raw) + len(block)) + raw + block
    dst = LocalStore(tmp_path / "b")
    with pytest.raises(StorageError):
        import_car(dst, io.BytesIO(car))
    assert dst.pins() == []


def test_header_with_foreign_codec_root_is_refused(tmp_path: Path) -> None:
    cbor_cid = b"\x01\x71\x12\x20" + b"\0" * 32
    body = b"\xa2\x65roots\x81\xd8\x2a\x58\x25\x00" + cbor_cid + b"\x67version\x01"
    with pytest.raises(CIDError):
        import_car(LocalStore(tmp_path / "b"), io.BytesIO(encode_varint(len(body)) + body))


def test_export_of_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="nothing to export"):
        export_car(LocalStore(tmp_path / "a"), [], io.BytesIO())
