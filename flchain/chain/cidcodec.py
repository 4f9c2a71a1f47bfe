"""CID strings <-> the binary CIDs the contracts store and emit.

The chain API speaks CID strings; on chain a CID is its binary form. Only the
forms the contract accepts are handled (sha2-256 multihash):

* CIDv0: base58btc ``Qm...`` <-> ``0x12 0x20`` + 32-byte digest (34 bytes);
* CIDv1: multibase base32 lower ``b...`` <-> ``0x01``, codec ``0x55`` (raw) or
  ``0x70`` (dag-pb), ``0x12 0x20`` + digest (36 bytes).

Both directions are exact inverses, so a CID read back from an event equals the
string that was submitted.
"""

from __future__ import annotations

import base64

from flchain.exceptions import CIDError
from flchain.types import CIDStr

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_SHA256 = b"\x12\x20"
_CODECS = (0x55, 0x70)


def _b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        if ch not in _B58_INDEX:
            raise CIDError(f"invalid base58 character {ch!r} in CID {text!r}")
        n = n * 58 + _B58_INDEX[ch]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def check_cid_bytes(data: bytes) -> bytes:
    """Return ``data`` if it is a binary CID the contracts accept, else raise CIDError."""
    if len(data) == 34 and data[:2] == _SHA256:
        digest = data[2:]
    elif len(data) == 36 and data[0] == 0x01 and data[1] in _CODECS and data[2:4] == _SHA256:
        digest = data[4:]
    else:
        raise CIDError(
            f"unsupported binary CID 0x{data.hex()}: expected CIDv0 or CIDv1 raw/dag-pb sha2-256"
        )
    if not any(digest):
        raise CIDError("CID has an all-zero digest")
    return data


def cid_to_bytes(cid: str) -> bytes:
    """Binary form of a ``Qm...`` (CIDv0) or ``b...`` base32 CIDv1 string."""
    if not isinstance(cid, str) or not cid:
        raise CIDError(f"CID must be a non-empty string, got {cid!r}")
    if cid.startswith("Qm") and len(cid) == 46:
        data = _b58decode(cid)
    elif cid.startswith("b"):
        body = cid[1:]
        if body != body.lower():
            raise CIDError(f"CIDv1 {cid!r} must be lower-case base32")
        try:
            data = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
        except ValueError as exc:
            raise CIDError(f"invalid base32 in CID {cid!r}: {exc}") from exc
    else:
        raise CIDError(f"unsupported CID {cid!r}: expected 'Qm...' (v0) or base32 'b...' (v1)")
    check_cid_bytes(data)
    if bytes_to_cid(data) != cid:
        raise CIDError(f"CID {cid!r} is not in canonical form")
    return data


def bytes_to_cid(data: bytes) -> CIDStr:
    """Canonical string form of a binary CID (base58btc for v0, base32 lower for v1)."""
    check_cid_bytes(bytes(data))
    if len(data) == 34:
        return CIDStr(_b58encode(bytes(data)))
    return CIDStr("b" + base64.b32encode(bytes(data)).decode().lower().rstrip("="))
