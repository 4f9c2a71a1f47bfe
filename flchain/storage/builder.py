"""Build the UnixFS DAG Kubo's ``ipfs add`` builds, one chunk at a time.

Kubo's defaults: fixed 256 KiB chunks, a balanced tree with at most 174 links
per node. ``cid_version=1`` means raw leaves and CIDv1 dag-pb inner nodes
(``ipfs add --cid-version 1``); ``cid_version=0`` means UnixFS File leaves and
CIDv0 everywhere (plain ``ipfs add``). A file of one chunk is named by its
leaf itself; the empty file is a single empty leaf.

The builder hands every finished block to a ``sink`` and keeps only one
pending link list per tree level, so memory stays flat for any file size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from flchain.exceptions import ConfigError
from flchain.storage.cid import CID, DAG_PB, RAW
from flchain.storage.dagpb import Link, file_leaf, file_parent

CHUNK_SIZE = 262_144
MAX_LINKS = 174

BlockSink = Callable[[CID, bytes | memoryview], None]


class ReadInto(Protocol):
    """A binary stream that can fill a caller's buffer (files, sockets)."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


def _discard(cid: CID, block: bytes | memoryview) -> None:
    """A sink that keeps nothing (for computing a CID only)."""


def check_version(cid_version: int) -> int:
    if cid_version not in (0, 1):
        raise ConfigError(f"cid_version must be 0 or 1, got {cid_version!r}")
    return cid_version


class DagBuilder:
    """Feed chunks of exactly ``CHUNK_SIZE`` bytes (the last may be shorter); get the root."""

    def __init__(self, cid_version: int = 1, sink: BlockSink = _discard) -> None:
        self.cid_version = check_version(cid_version)
        self._sink = sink
        self._levels: list[list[Link]] = [[]]
        self._chunks = 0
        self.size = 0

    def add_chunk(self, chunk: bytes | memoryview) -> None:
        """Add the next chunk of file data."""
        if self.cid_version == 1:
            block: bytes | memoryview = chunk
            cid = CID.for_block(block, version=1, codec=RAW)
        else:
            block = file_leaf(chunk)
            cid = CID.for_block(block, version=0, codec=DAG_PB)
        self._sink(cid, block)
        self._chunks += 1
        self.size += len(chunk)
        self._push(0, Link(cid, len(block), len(chunk)))

    def finish(self) -> CID:
        """Close the tree and return the root CID."""
        if self._chunks == 0:
            self.add_chunk(b"")
        level = 0
        while True:
            top = level == len(self._levels) - 1
            if top and len(self._levels[level]) == 1:
                return self._levels[level][0].cid
            self._push(level + 1, self._flush(level))
            level += 1

    def _push(self, level: int, link: Link) -> None:
        if level == len(self._levels):
            self._levels.append([])
        if len(self._levels[level]) == MAX_LINKS:
            self._push(level + 1, self._flush(level))
        self._levels[level].append(link)

    def _flush(self, level: int) -> Link:
        links, self._levels[level] = self._levels[level], []
        block = file_parent(links)
        version = self.cid_version
        cid = CID.for_block(block, version=version, codec=DAG_PB)
        self._sink(cid, block)
        return Link(cid, len(block) + sum(x.tsize for x in links), sum(x.filesize for x in links))


def read_chunks(stream: ReadInto, chunk_size: int = CHUNK_SIZE) -> Iterable[memoryview]:
    """Yield full chunks read with ``readinto`` into one reused buffer.

    Each yielded view is only valid until the next one is requested.
    """
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    while True:
        filled = 0
        while filled < chunk_size:
            n = stream.readinto(view[filled:])
            if not n:
                break
            filled += n
        if filled:
            yield view[:filled]
        if filled < chunk_size:
            return


def iter_byte_chunks(
    data: bytes | memoryview, chunk_size: int = CHUNK_SIZE
) -> Iterable[memoryview]:
    """Zero-copy chunk views over an in-memory object."""
    view = memoryview(data)
    for start in range(0, len(view), chunk_size):
        yield view[start : start + chunk_size]


def compute_cid(data: bytes | memoryview, cid_version: int = 1) -> CID:
    """The CID ``ipfs add`` gives ``data`` (with ``--cid-version`` as given)."""
    builder = DagBuilder(cid_version)
    for chunk in iter_byte_chunks(data):
        builder.add_chunk(chunk)
    return builder.finish()


def compute_file_cid(path: str | Path, cid_version: int = 1) -> CID:
    """The CID ``ipfs add`` gives the file at ``path``, streaming."""
    builder = DagBuilder(cid_version)
    with open(path, "rb") as f:
        for chunk in read_chunks(f):
            builder.add_chunk(chunk)
    return builder.finish()
