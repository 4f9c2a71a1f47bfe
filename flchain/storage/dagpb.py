"""dag-pb nodes carrying UnixFS file data: the bytes Kubo writes, and a strict reader.

Encoding follows the canonical dag-pb form (links before data, link fields
Hash, Name, Tsize) and UnixFS ``Data`` as proto2 (``blocksizes`` unpacked),
which is what both Kubo and the reference JavaScript importer produce.
"""

from __future__ import annotations

from dataclasses import dataclass

from flchain.exceptions import CIDError, IntegrityError
from flchain.storage.cid import CID, decode_varint, encode_varint

UNIXFS_RAW = 0
UNIXFS_FILE = 2
_FILE_TYPES = (UNIXFS_RAW, UNIXFS_FILE)


@dataclass(frozen=True, slots=True)
class Link:
    """One child of a dag-pb node: its CID, cumulative DAG size and file bytes."""

    cid: CID
    tsize: int
    filesize: int


@dataclass(frozen=True, slots=True)
class FileNode:
    """A decoded UnixFS file node: inline data, total file size and children."""

    data: bytes
    filesize: int
    links: tuple[CID, ...]
    blocksizes: tuple[int, ...]


def _field(tag: int, payload: bytes) -> bytes:
    return encode_varint(tag) + encode_varint(len(payload)) + payload


def unixfs_file(data: bytes | memoryview, filesize: int, blocksizes: tuple[int, ...] = ()) -> bytes:
    """Marshal a UnixFS ``Data`` message of type File."""
    out = bytearray(b"\x08\x02")
    if len(data):
        out += _field(0x12, bytes(data))
    out += b"\x18" + encode_varint(filesize)
    for size in blocksizes:
        out += b"\x20" + encode_varint(size)
    return bytes(out)


def encode_node(data: bytes, links: list[Link] | tuple[Link, ...] = ()) -> bytes:
    """Marshal a dag-pb ``PBNode`` (links first, then data)."""
    out = bytearray()
    for link in links:
        body = _field(0x0A, link.cid.to_bytes()) + b"\x12\x00" + b"\x18" + encode_varint(link.tsize)
        out += _field(0x12, body)
    out += _field(0x0A, data)
    return bytes(out)


def file_leaf(chunk: bytes | memoryview) -> bytes:
    """A CIDv0-style leaf: dag-pb node holding a UnixFS File with the chunk inline."""
    return encode_node(unixfs_file(chunk, len(chunk)))


def file_parent(links: list[Link]) -> bytes:
    """An inner node over ``links``: UnixFS File with filesize and blocksizes."""
    sizes = tuple(link.filesize for link in links)
    return encode_node(unixfs_file(b"", sum(sizes), sizes), links)


def _fields(buf: bytes | memoryview, what: str) -> list[tuple[int, int, int | bytes]]:
    """Split a protobuf message into (field, wire type, value); strict on truncation."""
    out: list[tuple[int, int, int | bytes]] = []
    pos, end = 0, len(buf)
    try:
        while pos < end:
            key, pos = decode_varint(buf, pos)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = decode_varint(buf, pos)
                out.append((field, wire, value))
            elif wire == 2:
                length, pos = decode_varint(buf, pos)
                if pos + length > end:
                    raise IntegrityError(f"truncated {what}")
                out.append((field, wire, bytes(buf[pos : pos + length])))
                pos += length
            else:
                raise IntegrityError(f"unexpected wire type {wire} in {what}")
    except CIDError as exc:
        raise IntegrityError(f"malformed {what}: {exc}") from exc
    return out


def decode_file_node(block: bytes | memoryview) -> FileNode:
    """Decode a dag-pb block that must be a UnixFS file (or raw) node."""
    links: list[CID] = []
    data_msg: bytes | None = None
    for field, wire, value in _fields(block, "dag-pb node"):
        if field == 2 and wire == 2 and isinstance(value, bytes):
            links.append(_decode_link(value))
        elif field == 1 and wire == 2 and isinstance(value, bytes):
            data_msg = value
        else:
            raise IntegrityError(f"unexpected field {field} in dag-pb node")
    if data_msg is None:
        raise CIDError("dag-pb node without UnixFS data is not a file")
    kind, inline, filesize, sizes = -1, b"", None, []
    for field, _wire, value in _fields(data_msg, "UnixFS data"):
        if field == 1 and isinstance(value, int):
            kind = value
        elif field == 2 and isinstance(value, bytes):
            inline = value
        elif field == 3 and isinstance(value, int):
            filesize = value
        elif field == 4 and isinstance(value, int):
            sizes.append(value)
    if kind not in _FILE_TYPES:
        raise CIDError(f"UnixFS node of type {kind} is not a file")
    if filesize is None:
        filesize = len(inline) + sum(sizes)
    if len(sizes) != len(links) or filesize != len(inline) + sum(sizes):
        raise IntegrityError("UnixFS file sizes disagree with the node's links")
    return FileNode(inline, filesize, tuple(links), tuple(sizes))


def _decode_link(msg: bytes) -> CID:
    cid: CID | None = None
    for field, wire, value in _fields(msg, "dag-pb link"):
        if field == 1 and wire == 2 and isinstance(value, bytes):
            cid = CID.from_bytes(value)
    if cid is None:
        raise IntegrityError("dag-pb link without a hash")
    return cid
