"""The ``ContentStore`` interface and the verified DAG reader every store shares.

A store holds blocks by CID. Files go in as UnixFS DAGs identical to Kubo's
``ipfs add`` and come out by walking the DAG from its root: every block is
re-hashed against the CID it was reached by before a byte of it is returned,
so a store can lose data but never hand out wrong data.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flchain.exceptions import IntegrityError, ObjectTooLargeError, StorageError
from flchain.storage.cid import CID, RAW, as_cid
from flchain.storage.dagpb import decode_file_node
from flchain.types import CIDStr, Closing

MAX_BLOCK_SIZE = 2 * 1024 * 1024
"""Largest block any store accepts (Kubo's limit for exchanged blocks)."""

MAX_DEPTH = 16
"""Deepest DAG walked; 174**16 chunks is far beyond any real file."""

BlockGetter = Callable[[CID], bytes]


@dataclass(frozen=True, slots=True)
class ObjectStat:
    """What a store knows about a CID without reading the whole file."""

    cid: CIDStr
    size: int
    """File size in bytes (the UnixFS ``filesize``, or the raw block length)."""
    block_size: int
    """Size of the root block."""
    codec: str


def _too_large(cid: CID, size: int, max_size: int) -> ObjectTooLargeError:
    return ObjectTooLargeError(f"{cid} is {size} bytes, over the limit of {max_size}")


def stat_root(cid: CID, block: bytes) -> ObjectStat:
    """Stat a file from its (already verified) root block."""
    size = len(block) if cid.codec == RAW else decode_file_node(block).filesize
    return ObjectStat(cid.encode(), size, len(block), cid.codec_name)


def iter_file(get_block: BlockGetter, root: CID, max_size: int | None = None) -> Iterator[bytes]:
    """Yield a file's bytes in order, each block verified by ``get_block``.

    The declared size is checked against ``max_size`` from the root block,
    before any other block is fetched; every node's sizes must agree with its
    children, so the stream can never exceed what the root declared.
    """
    block = get_block(root)
    stat = stat_root(root, block)
    if max_size is not None and stat.size > max_size:
        raise _too_large(root, stat.size, max_size)
    yield from _walk(get_block, root, block, stat.size, 0)


def _walk(
    get_block: BlockGetter, cid: CID, block: bytes, expected: int, depth: int
) -> Iterator[bytes]:
    if depth > MAX_DEPTH:
        raise IntegrityError(f"DAG under {cid} is deeper than {MAX_DEPTH}")
    if cid.codec == RAW:
        if len(block) != expected:
            raise IntegrityError(f"block {cid} holds {len(block)} bytes, parent says {expected}")
        yield block
        return
    node = decode_file_node(block)
    if node.filesize != expected:
        raise IntegrityError(f"node {cid} holds {node.filesize} bytes, parent says {expected}")
    if node.data:
        yield node.data
    for child, size in zip(node.links, node.blocksizes, strict=True):
        yield from _walk(get_block, child, get_block(child), size, depth + 1)


def iter_dag_blocks(get_block: BlockGetter, root: CID) -> Iterator[tuple[CID, bytes]]:
    """Every block of a file DAG, depth-first in file order (root first)."""
    stack = [root]
    while stack:
        cid = stack.pop()
        block = get_block(cid)
        yield cid, block
        if cid.codec != RAW:
            stack.extend(reversed(decode_file_node(block).links))


class ContentStore(Closing, ABC):
    """Blocks by CID, files as Kubo-identical UnixFS DAGs, every read verified."""

    # --- blocks (implemented by each store) ------------------------------

    @abstractmethod
    def get_block(self, cid: CID) -> bytes:
        """The block named by ``cid``, verified; ContentNotFoundError if absent."""

    @abstractmethod
    def put_block(self, cid: CID, block: bytes | memoryview) -> None:
        """Store one block; IntegrityError if it does not hash to ``cid``."""

    @abstractmethod
    def has_block(self, cid: CID) -> bool:
        """Whether the block is held locally (not verified)."""

    # --- files -------------------------------------------------------------

    @abstractmethod
    def put(self, data: bytes | memoryview, *, cid_version: int = 1, pin: bool = True) -> CIDStr:
        """Add ``data`` as a file; return the CID ``ipfs add`` would print."""

    @abstractmethod
    def put_file(self, path: str | Path, *, cid_version: int = 1, pin: bool = True) -> CIDStr:
        """Add the file at ``path``, streaming it chunk by chunk."""

    @abstractmethod
    def pin(self, cid: str | CID) -> None:
        """Keep the DAG under ``cid`` through garbage collection."""

    @abstractmethod
    def unpin(self, cid: str | CID) -> bool:
        """Release a pin; return whether it was pinned."""

    @abstractmethod
    def pins(self) -> list[CIDStr]:
        """The pinned root CIDs."""

    def iter_content(self, cid: str | CID, *, max_size: int | None = None) -> Iterator[bytes]:
        """Stream a file's bytes, each block verified before it is yielded."""
        return iter_file(self.get_block, as_cid(cid), max_size)

    def get(self, cid: str | CID, *, max_size: int | None = None) -> bytes:
        """A whole file, verified; ObjectTooLargeError over ``max_size`` bytes."""
        root = as_cid(cid)
        it = iter_file(self.get_block, root, max_size)
        return b"".join(it)

    def get_file(self, cid: str | CID, path: str | Path, *, max_size: int | None = None) -> int:
        """Write a file to ``path`` atomically (never a partial file); return its size."""
        target = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in self.iter_content(cid, max_size=max_size):
                    out.write(piece)
                    size += len(piece)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    def stat(self, cid: str | CID) -> ObjectStat:
        """Size and codec of a file from its root block."""
        root = as_cid(cid)
        return stat_root(root, self.get_block(root))

    def has(self, cid: str | CID) -> bool:
        """Whether every block of the DAG under ``cid`` is held (and verifies)."""
        root = as_cid(cid)
        try:
            for _ in iter_dag_blocks(self.get_block, root):
                pass
        except StorageError:
            return False
        return True

    def export_car(self, cids: Iterable[str | CID], out: BinaryIO) -> int:
        """Write the DAGs under ``cids`` as one CARv1 stream; return the block count."""
        from flchain.storage.car import export_car

        return export_car(self, cids, out)

    def import_car(self, src: BinaryIO, *, pin: bool = True) -> list[CIDStr]:
        """Store every verified block of a CARv1 stream; return (and pin) its roots."""
        from flchain.storage.car import import_car

        return import_car(self, src, pin=pin)

    def hold(self, *, exclusive: bool = False) -> AbstractContextManager[None]:
        """Keep garbage collection away while the block runs (stores with GC override)."""
        return nullcontext()
