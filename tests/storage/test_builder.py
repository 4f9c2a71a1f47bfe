"""The streaming DAG builder: chunking from short reads, tree shape, sizes."""

from __future__ import annotations

import io
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from flchain.storage import CID, LocalStore, compute_cid
from flchain.storage.builder import CHUNK_SIZE, MAX_LINKS, DagBuilder, read_chunks
from flchain.storage.dagpb import decode_file_node


class Trickle(io.RawIOBase):
    """A stream that never returns more than ``step`` bytes per read (like a socket)."""

    def __init__(self, data: bytes, step: int) -> None:
        self._src, self._step = io.BytesIO(data), step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        piece = self._src.read(min(len(buffer), self._step))
        buffer[: len(piece)] = piece
        return len(piece)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(0, 3 * CHUNK_SIZE + 10), step=st.integers(1, 100_000))
def test_short_reads_give_the_same_cid(size: int, step: int) -> None:
    data = os.urandom(size)
    builder = DagBuilder(1)
    for chunk in read_chunks(Trickle(data, step)):
        builder.add_chunk(chunk)
    assert builder.finish() == compute_cid(data)
    assert builder.size == size


def test_tree_shape_at_174_and_175_chunks(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    for chunks, depth in ((MAX_LINKS, 1), (MAX_LINKS + 1, 2)):
        data = b"\1" * (chunks * CHUNK_SIZE)
        root = decode_file_node(store.get_block(CID.parse(store.put(data))))
        if depth == 1:
            assert len(root.links) == MAX_LINKS and root.blocksizes == (CHUNK_SIZE,) * MAX_LINKS
        else:
            assert len(root.links) == 2
            assert root.blocksizes == (MAX_LINKS * CHUNK_SIZE, CHUNK_SIZE)
        assert root.filesize == len(data)
