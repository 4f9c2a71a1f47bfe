"""``LocalStore``: the embedded store, a directory of blocks shared by processes.

Layout under the store root::

    blocks/<shard>/<KEY>.data   one file per block; KEY is the base32 multihash
                                (as Kubo's flatfs), shard its next-to-last 2 chars
    pins/<cid>                  one empty file per recursively pinned root
    gc.lock                     flock: writers and readers share it, GC takes it alone

Guarantees, for any number of processes using one directory at once:

* A block file appears only complete: it is written to a ``.tmp-*`` file in
  its own shard directory and renamed over with ``os.replace``. A writer
  killed mid-write leaves only a temporary file, which readers never look at
  and the next GC removes.
* Every read re-hashes the block against its CID; corruption on disk is an
  :class:`IntegrityError`, never data.
* ``put``/``put_file``/``pin``/CAR import hold the shared lock from the first
  block to the pin; ``gc`` holds the exclusive lock. So GC never runs while
  a write is under way, and anything pinned by a finished write survives it.
  Content added with ``pin=False`` is fair game for the next GC.
* Durability: by default blocks are not fsynced (a 256 KiB block per file
  would cost ~40 % of throughput). Process crashes lose nothing that was
  renamed into place; after a power loss a recent block may be missing or
  torn, which reads report as not-found or IntegrityError. ``fsync=True``
  fsyncs each block and its directory before the put returns.

Locks are ``flock`` locks: use a local filesystem, not NFS.
"""

from __future__ import annotations

import base64
import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from flchain.exceptions import (
    CIDError,
    ContentNotFoundError,
    IntegrityError,
    StorageError,
    StoreWriteError,
)
from flchain.storage.base import MAX_BLOCK_SIZE, ContentStore, iter_dag_blocks, iter_file
from flchain.storage.builder import DagBuilder, iter_byte_chunks, read_chunks
from flchain.storage.cid import CID, RAW, as_cid
from flchain.storage.dagpb import decode_file_node
from flchain.types import CIDStr

_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True, slots=True)
class GCResult:
    """What a garbage collection did."""

    removed_blocks: int
    removed_bytes: int
    kept_blocks: int
    removed_temp_files: int


def block_key(cid: CID) -> str:
    """Kubo flatfs-style key: unpadded upper-case base32 of the multihash."""
    return base64.b32encode(cid.multihash).decode("ascii").rstrip("=")


class LocalStore(ContentStore):
    """A content store in a local directory, safe for concurrent processes."""

    def __init__(self, root: str | Path, *, fsync: bool = False) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self._blocks = self.root / "blocks"
        self._pins = self.root / "pins"
        try:
            self._blocks.mkdir(parents=True, exist_ok=True)
            self._pins.mkdir(exist_ok=True)
            (self.root / "gc.lock").touch(exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot open store at {self.root}: {exc}") from exc
        self._shards: set[str] = set()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # --- locking -----------------------------------------------------------

    @contextmanager
    def hold(self, *, exclusive: bool = False) -> Iterator[None]:
        """Hold the store lock: shared for reads/writes (GC waits), exclusive for GC."""
        with open(self.root / "gc.lock", "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # --- blocks --------------------------------------------------------------

    def block_path(self, cid: CID) -> Path:
        key = block_key(cid)
        return self._blocks / key[-3:-1] / f"{key}.data"

    def get_block(self, cid: CID) -> bytes:
        path = self.block_path(cid)
        try:
            with open(path, "rb") as f:
                block = f.read(MAX_BLOCK_SIZE + 1)
        except FileNotFoundError:
            raise ContentNotFoundError(f"no block {cid} in {self.root}") from None
        if len(block) > MAX_BLOCK_SIZE or not cid.verify(block):
            raise IntegrityError(f"block {cid} is corrupted on disk ({path})")
        return block

    def has_block(self, cid: CID) -> bool:
        return self.block_path(cid).exists()

    def put_block(self, cid: CID, block: bytes | memoryview) -> None:
        if len(block) > MAX_BLOCK_SIZE:
            raise IntegrityError(f"block {cid} is {len(block)} bytes, over {MAX_BLOCK_SIZE}")
        if not cid.verify(block):
            raise IntegrityError(f"block does not hash to {cid}")
        with self.hold():
            self._write_block(cid, block)

    def _write_block(self, cid: CID, block: bytes | memoryview) -> None:
        key = block_key(cid)
        shard = key[-3:-1]
        directory = self._blocks / shard
        target = directory / f"{key}.data"
        if target.exists():
            return
        if shard not in self._shards:
            directory.mkdir(exist_ok=True)
            self._shards.add(shard)
        tmp = directory / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(block)
                while view:
                    view = view[os.write(fd, view) :]
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreWriteError(
                f"cannot write block {cid} to {self.root}: {exc.strerror}"
            ) from exc
        if self.fsync:
            _fsync_dir(directory)

    # --- files ---------------------------------------------------------------

    def put(self, data: bytes | memoryview, *, cid_version: int = 1, pin: bool = True) -> CIDStr:
        with self.hold():
            builder = DagBuilder(cid_version, self._write_block)
            for chunk in iter_byte_chunks(data):
                builder.add_chunk(chunk)
            root = builder.finish()
            if pin:
                self._write_pin(root)
        return root.encode()

    def put_file(self, path: str | Path, *, cid_version: int = 1, pin: bool = True) -> CIDStr:
        with self.hold():
            builder = DagBuilder(cid_version, self._write_block)
            try:
                with open(path, "rb") as f:
                    for chunk in read_chunks(f):
                        builder.add_chunk(chunk)
            except OSError as exc:
                raise StorageError(f"cannot read {path}: {exc}") from exc
            root = builder.finish()
            if pin:
                self._write_pin(root)
        return root.encode()

    def iter_content(self, cid: str | CID, *, max_size: int | None = None) -> Iterator[bytes]:
        root = as_cid(cid)
        with self.hold():
            yield from iter_file(self.get_block, root, max_size)

    def get(self, cid: str | CID, *, max_size: int | None = None) -> bytes:
        root = as_cid(cid)
        with self.hold():
            return b"".join(iter_file(self.get_block, root, max_size))

    # --- pins and GC ----------------------------------------------------------

    def pin(self, cid: str | CID) -> None:
        root = as_cid(cid)
        with self.hold():
            for _ in iter_dag_blocks(self.get_block, root):
                pass
            self._write_pin(root)

    def _write_pin(self, root: CID) -> None:
        target = self._pins / root.encode()
        if target.exists():
            return
        tmp = self._pins / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        tmp.write_bytes(b"")
        os.replace(tmp, target)
        if self.fsync:
            _fsync_dir(self._pins)

    def unpin(self, cid: str | CID) -> bool:
        root = as_cid(cid)
        try:
            (self._pins / root.encode()).unlink()
        except FileNotFoundError:
            return False
        return True

    def pins(self) -> list[CIDStr]:
        out = []
        for entry in sorted(os.listdir(self._pins)):
            if entry.startswith("."):
                continue
            try:
                out.append(CID.parse(entry).encode())
            except CIDError:
                continue
        return out

    def gc(self) -> GCResult:
        """Delete every block not reachable from a pin, and leftover temp files."""
        with self.hold(exclusive=True):
            live = self._reachable()
            removed = removed_bytes = kept = temps = 0
            for shard in os.scandir(self._blocks):
                if not shard.is_dir():
                    continue
                for entry in os.scandir(shard.path):
                    if entry.name.startswith(_TMP_PREFIX):
                        _unlink(entry.path)
                        temps += 1
                    elif entry.name.removesuffix(".data") in live:
                        kept += 1
                    else:
                        removed_bytes += entry.stat().st_size
                        _unlink(entry.path)
                        removed += 1
            for entry in os.scandir(self._pins):
                if entry.name.startswith(_TMP_PREFIX):
                    _unlink(entry.path)
                    temps += 1
        return GCResult(removed, removed_bytes, kept, temps)

    def _reachable(self) -> set[str]:
        """Keys of all blocks under pinned roots (raw leaves are not read)."""
        live: set[str] = set()
        stack = [CID.parse(p) for p in self.pins()]
        while stack:
            cid = stack.pop()
            key = block_key(cid)
            if key in live:
                continue
            live.add(key)
            if cid.codec == RAW:
                continue
            try:
                stack.extend(decode_file_node(self.get_block(cid)).links)
            except StorageError:
                continue  # missing or corrupt: keep what is there, nothing below is known
        return live


def _unlink(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
