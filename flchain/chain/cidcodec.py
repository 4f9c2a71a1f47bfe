"""CID strings <-> the binary CIDs the contracts store and emit.

The chain API speaks CID strings; on chain a CID is its binary form. Parsing
and encoding belong to the storage package (:class:`flchain.storage.cid.CID`);
this module adds the contract's own acceptance rule on top: CIDv0, or CIDv1
raw/dag-pb, sha2-256, with a non-zero digest, in canonical string form
(``Qm...`` base58btc for v0, ``b...`` base32 lower for v1). Both directions
are exact inverses, so a CID read back from an event equals the string that
was submitted.
"""

from __future__ import annotations

from flchain.exceptions import CIDError
from flchain.storage.cid import CID
from flchain.types import CIDStr


def _accepted(cid: CID) -> CID:
    if not any(cid.digest):
        raise CIDError("CID has an all-zero digest")
    return cid


def _from_bytes(data: bytes) -> CID:
    try:
        return _accepted(CID.from_bytes(bytes(data)))
    except CIDError as exc:
        raise CIDError(
            f"unsupported binary CID 0x{bytes(data).hex()}: {exc} "
            "(expected CIDv0 or CIDv1 raw/dag-pb sha2-256)"
        ) from None


def check_cid_bytes(data: bytes) -> bytes:
    """Return ``data`` if it is a binary CID the contracts accept, else raise CIDError."""
    _from_bytes(data)
    return data


def cid_to_bytes(cid: str) -> bytes:
    """Binary form of a ``Qm...`` (CIDv0) or ``b...`` base32 CIDv1 string."""
    parsed = _accepted(CID.parse(cid))
    if parsed.encode() != cid:
        raise CIDError(f"CID {cid!r} is not in canonical form")
    return parsed.to_bytes()


def bytes_to_cid(data: bytes) -> CIDStr:
    """Canonical string form of a binary CID (base58btc for v0, base32 lower for v1)."""
    return _from_bytes(data).encode()
