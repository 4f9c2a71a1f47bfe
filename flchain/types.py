"""Shared vocabulary: NewTypes and small frozen dataclasses used across packages.

Domain packages add their own dataclasses beside their code; what lives here is
what more than one package speaks about.
"""

from __future__ import annotations

from typing import NewType

Address = NewType("Address", str)
"""A checksummed Ethereum address, ``0x`` + 40 hex digits."""

CIDStr = NewType("CIDStr", str)
"""A content identifier in its canonical string form (``bafy...`` or ``Qm...``)."""

RoundId = NewType("RoundId", int)
"""A training round, counted from 0."""

TxHash = NewType("TxHash", str)
"""A transaction hash, ``0x`` + 64 hex digits."""

Score = NewType("Score", int)
"""A quality score in basis points, 0..10000 (0 = reject)."""

MAX_SCORE = 10_000
