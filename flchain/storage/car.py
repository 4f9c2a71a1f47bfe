"""CARv1 export and import: move whole DAGs between stores and IPFS nodes.

A CARv1 file is a varint-prefixed dag-cbor header ``{"roots": [CID...],
"version": 1}`` followed by varint-prefixed ``CID bytes + block`` sections.
Export writes every block of each root's DAG once (depth-first, root first),
so ``ipfs dag import run.car`` accepts it. Import verifies every block
against its CID before storing it, and checks each root's DAG is complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from flchain.exceptions import IntegrityError, StorageError
from flchain.storage.base import MAX_BLOCK_SIZE, ContentStore, iter_dag_blocks
from flchain.storage.cid import CID, as_cid, encode_varint
from flchain.types import CIDStr

MAX_HEADER_SIZE = 1 << 20


# --- header: the tiny subset of dag-cbor a CARv1 header needs ---------------


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for extra, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | extra]) + n.to_bytes(width, "big")
    raise ValueError("integer too large for CBOR")


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    return _cbor_head(3, len(raw)) + raw


def encode_header(roots: list[CID]) -> bytes:
    body = bytearray(_cbor_head(5, 2))  # map, keys in dag-cbor order: "roots" < "version"
    body += _cbor_text("roots") + _cbor_head(4, len(roots))
    for cid in roots:
        raw = b"\x00" + cid.to_bytes()
        body += b"\xd8\x2a" + _cbor_head(2, len(raw)) + raw  # tag 42: a CID
    body += _cbor_text("version") + _cbor_head(0, 1)
    return encode_varint(len(body)) + bytes(body)


class _Cbor:
    """A strict reader for maps, arrays, text, ints and CID tags."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise IntegrityError("truncated CAR header")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def item(self, depth: int = 0) -> object:
        if depth > 8:
            raise IntegrityError("CAR header nested too deeply")
        first = self._take(1)[0]
        major, info = first >> 5, first & 31
        if info < 24:
            n = info
        elif info <= 27:
            n = int.from_bytes(self._take(1 << (info - 24)), "big")
        else:
            raise IntegrityError("unsupported CBOR item in CAR header")
        if major == 0:
            return n
        if major in (2, 3):
            raw = self._take(n)
            return raw if major == 2 else raw.decode("utf-8", "replace")
        if major == 4:
            return [self.item(depth + 1) for _ in range(n)]
        if major == 5:
            return {self.item(depth + 1): self.item(depth + 1) for _ in range(n)}  # type: ignore[misc]
        if major == 6 and n == 42:
            tagged = self.item(depth + 1)
            if not isinstance(tagged, bytes) or tagged[:1] != b"\x00":
                raise IntegrityError("bad CID in CAR header")
            return CID.from_bytes(tagged[1:])
        raise IntegrityError("unsupported CBOR item in CAR header")


# --- reading and writing ------------------------------------------------------


def _read_varint(src: BinaryIO) -> int | None:
    value = shift = 0
    while True:
        byte = src.read(1)
        if not byte:
            if shift:
                raise IntegrityError("truncated CAR section length")
            return None
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
        shift += 7
        if shift > 63:
            raise IntegrityError("CAR section length too long")


def _read_exact(src: BinaryIO, n: int, what: str) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise IntegrityError(f"truncated {what}: wanted {n} bytes, got {len(data)}")
    return data


def read_car(src: BinaryIO) -> tuple[list[CID], Iterator[tuple[CID, bytes]]]:
    """Parse a CARv1 stream: its roots, and its blocks (each verified) lazily.

    A CID of a codec we do not serve raises :class:`CIDError`; anything
    truncated or not hashing to its CID raises :class:`IntegrityError`.
    """
    length = _read_varint(src)
    if length is None or length > MAX_HEADER_SIZE:
        raise IntegrityError("not a CAR file: missing or oversized header")
    header = _Cbor(_read_exact(src, length, "CAR header")).item()
    if not isinstance(header, dict) or header.get("version") != 1:
        raise IntegrityError("not a CARv1 file (header version is not 1)")
    roots = header.get("roots")
    if not isinstance(roots, list) or not all(isinstance(r, CID) for r in roots):
        raise IntegrityError("CAR header has no list of root CIDs")

    def blocks() -> Iterator[tuple[CID, bytes]]:
        while (size := _read_varint(src)) is not None:
            if size > MAX_BLOCK_SIZE + 64:
                raise IntegrityError(f"CAR section of {size} bytes is over the block limit")
            section = _read_exact(src, size, "CAR section")
            cid, start = CID.read(section, 0)
            block = section[start:]
            if not cid.verify(block):
                raise IntegrityError(f"CAR block does not hash to its CID {cid}")
            yield cid, block

    return list(roots), blocks()


def write_car(
    out: BinaryIO, roots: list[CID], blocks: Iterable[tuple[CID, bytes]]
) -> tuple[int, int]:
    """Write a CARv1 stream, skipping repeated blocks; return (blocks, bytes written)."""
    written = out.write(encode_header(roots))
    seen: set[bytes] = set()
    count = 0
    for cid, block in blocks:
        raw = cid.to_bytes()
        if raw in seen:
            continue
        seen.add(raw)
        written += out.write(encode_varint(len(raw) + len(block)) + raw)
        written += out.write(block)
        count += 1
    return count, written


def export_car(store: ContentStore, cids: Iterable[str | CID], out: BinaryIO) -> int:
    """Write the DAGs under ``cids`` from ``store`` (verified) as one CAR; return block count."""
    roots = [as_cid(c) for c in cids]
    if not roots:
        raise StorageError("nothing to export: no CIDs given")

    def blocks() -> Iterator[tuple[CID, bytes]]:
        for root in roots:
            yield from iter_dag_blocks(store.get_block, root)

    with store.hold():
        count, _ = write_car(out, roots, blocks())
    return count


def import_car(store: ContentStore, src: BinaryIO, *, pin: bool = True) -> list[CIDStr]:
    """Store every (verified) block of a CAR; check roots are complete; pin them."""
    with store.hold():
        roots, blocks = read_car(src)
        for cid, block in blocks:
            store.put_block(cid, block)
        for root in roots:
            if pin:
                store.pin(root)  # pinning walks the DAG and refuses an incomplete one
            else:
                for _ in iter_dag_blocks(store.get_block, root):
                    pass
    return [r.encode() for r in roots]
