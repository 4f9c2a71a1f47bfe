"""Signing EIP-1559 transactions fast: RLP and secp256k1 directly.

eth-account validates and re-formats every field (checksumming addresses with
keccak several times per transaction); that is most of the client's cost at a
few hundred transactions per second. This module builds the same bytes with
``rlp`` and ``coincurve`` (RFC 6979 deterministic signatures, so the output is
identical to eth-account's, which the tests check).
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from coincurve import PrivateKey
from eth_utils.crypto import keccak

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_TYPE_DYNAMIC_FEE = b"\x02"


@dataclass(frozen=True)
class DynamicFeeTx:
    """The fields of an EIP-1559 (type 2) transaction, without an access list."""

    chain_id: int
    nonce: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    gas: int
    to: bytes  # 20 bytes, or b"" to create a contract
    value: int
    data: bytes

    def fields(self) -> list[object]:
        """The unsigned RLP list (access list empty)."""
        return [
            self.chain_id,
            self.nonce,
            self.max_priority_fee_per_gas,
            self.max_fee_per_gas,
            self.gas,
            self.to,
            self.value,
            self.data,
            [],
        ]


class Signer:
    """One private key, signing type-2 transactions to raw bytes."""

    def __init__(self, private_key: bytes) -> None:
        if len(private_key) != 32 or not 0 < int.from_bytes(private_key, "big") < SECP256K1_N:
            raise ValueError("a private key is 32 bytes in 1..n-1")
        self._key = PrivateKey(private_key)

    def sign(self, tx: DynamicFeeTx) -> bytes:
        """The raw signed transaction: ``0x02 || rlp([fields..., y_parity, r, s])``."""
        if len(tx.to) not in (0, 20):
            raise ValueError(f"'to' must be 20 bytes or empty, got {len(tx.to)}")
        fields = tx.fields()
        digest = keccak(_TYPE_DYNAMIC_FEE + rlp.encode(fields))
        signature = self._key.sign_recoverable(digest, hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        y_parity = signature[64]
        if s > SECP256K1_N // 2:  # coincurve already returns low-s; keep the rule explicit
            s = SECP256K1_N - s
            y_parity ^= 1
        signed: bytes = rlp.encode([*fields, y_parity, r, s])
        return _TYPE_DYNAMIC_FEE + signed
