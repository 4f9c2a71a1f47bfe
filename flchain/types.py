"""Shared vocabulary: NewTypes, type aliases and small bases used across packages.

Domain packages add their own dataclasses beside their code; what lives here is
what more than one package speaks about.
"""

from __future__ import annotations

from types import TracebackType
from typing import NewType, Self

import numpy as np

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

Weights = dict[str, np.ndarray]
"""Model weights as named float32 arrays, keyed as in a torch ``state_dict``."""

ArrayPair = tuple[np.ndarray, np.ndarray]
"""Inputs and labels of a data set (or one split of it)."""


class Closing:
    """A resource used in a ``with`` block: leaving the block calls :meth:`close`."""

    def close(self) -> None:
        """Release what the resource holds (nothing by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
