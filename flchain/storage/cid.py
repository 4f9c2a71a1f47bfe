"""Content identifiers: parse and print CIDv0/CIDv1 over sha2-256.

Only what FLchain stores is accepted: sha2-256 multihashes and the ``raw``
(0x55) and ``dag-pb`` (0x70) codecs. CIDv1 prints as multibase base32
(``bafy...``/``bafk...``), CIDv0 as bare base58btc (``Qm...``), like Kubo.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from flchain.exceptions import CIDError
from flchain.types import CIDStr

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
DIGEST_LEN = 32

_CODEC_NAMES = {RAW: "raw", DAG_PB: "dag-pb"}
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def encode_varint(n: int) -> bytes:
    """Unsigned LEB128, as used by multiformats and protobuf."""
    if n < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_varint(buf: bytes | memoryview, pos: int = 0) -> tuple[int, int]:
    """Read an unsigned varint at ``pos``; return (value, next position)."""
    value = shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise CIDError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise CIDError("varint longer than 9 bytes")


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    chars = []
    while n:
        n, r = divmod(n, 58)
        chars.append(_B58[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(chars))


def b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        if c not in _B58_INDEX:
            raise CIDError(f"invalid base58 character {c!r}")
        n = n * 58 + _B58_INDEX[c]
    pad = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * pad + body


@dataclass(frozen=True, slots=True)
class CID:
    """A parsed CID: version, codec and the sha2-256 digest it names."""

    version: int
    codec: int
    digest: bytes

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise CIDError(f"unsupported CID version {self.version}")
        if self.codec not in _CODEC_NAMES:
            raise CIDError(f"unsupported CID codec 0x{self.codec:x} (only raw and dag-pb)")
        if self.version == 0 and self.codec != DAG_PB:
            raise CIDError("CIDv0 must be dag-pb")
        if len(self.digest) != DIGEST_LEN:
            raise CIDError(f"sha2-256 digest must be 32 bytes, got {len(self.digest)}")

    @classmethod
    def for_block(cls, block: bytes | memoryview, *, version: int, codec: int) -> CID:
        """The CID naming ``block`` (its sha2-256)."""
        return cls(version, codec, hashlib.sha256(block).digest())

    @classmethod
    def parse(cls, text: str) -> CID:
        """Parse a CID string; raise :class:`CIDError` naming what is wrong."""
        if not isinstance(text, str) or not text:
            raise CIDError(f"not a CID: {text!r}")
        try:
            return cls._parse(text)
        except CIDError as exc:
            raise CIDError(f"bad CID {text!r}: {exc}") from None

    @classmethod
    def _parse(cls, text: str) -> CID:
        if len(text) == 46 and text.startswith("Qm"):
            return cls.from_bytes(b58decode(text))
        if text[0] == "b":
            body = text[1:].upper()
            try:
                raw = base64.b32decode(body + "=" * (-len(body) % 8))
            except ValueError as exc:
                raise CIDError("invalid base32") from exc
            return cls.from_bytes(raw)
        if text[0] == "z":
            return cls.from_bytes(b58decode(text[1:]))
        raise CIDError(f"unsupported multibase prefix {text[0]!r}")

    @classmethod
    def from_bytes(cls, raw: bytes | memoryview) -> CID:
        """Decode a binary CID that is exactly ``raw``."""
        cid, end = cls.read(raw, 0)
        if end != len(raw):
            raise CIDError("trailing bytes after CID")
        return cid

    @classmethod
    def read(cls, buf: bytes | memoryview, pos: int) -> tuple[CID, int]:
        """Decode a binary CID starting at ``pos``; return (cid, next position)."""
        if len(buf) - pos >= 2 and buf[pos] == SHA2_256 and buf[pos + 1] == DIGEST_LEN:
            end = pos + 2 + DIGEST_LEN
            if end > len(buf):
                raise CIDError("truncated CIDv0")
            return cls(0, DAG_PB, bytes(buf[pos + 2 : end])), end
        version, pos = decode_varint(buf, pos)
        if version != 1:
            raise CIDError(f"unsupported CID version {version}")
        codec, pos = decode_varint(buf, pos)
        hash_code, pos = decode_varint(buf, pos)
        length, pos = decode_varint(buf, pos)
        if hash_code != SHA2_256:
            raise CIDError(f"unsupported multihash 0x{hash_code:x} (only sha2-256)")
        if length != DIGEST_LEN or pos + length > len(buf):
            raise CIDError("bad sha2-256 digest length")
        return cls(1, codec, bytes(buf[pos : pos + length])), pos + length

    @property
    def multihash(self) -> bytes:
        return bytes((SHA2_256, DIGEST_LEN)) + self.digest

    def to_bytes(self) -> bytes:
        if self.version == 0:
            return self.multihash
        return b"\x01" + encode_varint(self.codec) + self.multihash

    def encode(self) -> CIDStr:
        if self.version == 0:
            return CIDStr(b58encode(self.multihash))
        b32 = base64.b32encode(self.to_bytes()).decode("ascii").rstrip("=").lower()
        return CIDStr("b" + b32)

    def __str__(self) -> str:
        return self.encode()

    @property
    def codec_name(self) -> str:
        return _CODEC_NAMES[self.codec]

    def verify(self, block: bytes | memoryview) -> bool:
        """True when ``block`` hashes to this CID's digest."""
        return hashlib.sha256(block).digest() == self.digest


def as_cid(value: str | CID) -> CID:
    """Accept a CID or its string form."""
    return value if isinstance(value, CID) else CID.parse(value)
