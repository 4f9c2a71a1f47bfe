"""Deterministic vote salts.

A miner's salt for a round is an HMAC of its private key over (chain id, task
address, round): unpredictable to everyone else, yet a miner restarted between
commit and reveal derives the same salt again and can still reveal.
"""

from __future__ import annotations

import hashlib
import hmac


def derive_salt(private_key: bytes, chain_id: int, task: str, round_id: int) -> bytes:
    """32-byte salt for ``round_id`` of ``task`` on ``chain_id``."""
    message = f"flchain-vote-salt:{chain_id}:{task.lower()}:{round_id}".encode()
    return hmac.new(private_key, message, hashlib.sha256).digest()
