"""Hand-made model files for the codec's limit and fuzz tests."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from flchain.storage.codec import ModelMeta
from flchain.types import Address, RoundId

AUTHOR = Address("0x" + "ab" * 20)
META = ModelMeta(RoundId(3), AUTHOR, "mlp-3", None)
X = np.arange(4, dtype=np.float32)  # the one tensor of `file_of`'s default header


def entry(shape: Any = (4,), offsets: Any = (0, 16), dtype: Any = "F32") -> dict[str, Any]:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def header(meta: Any = None, **tensors: Any) -> dict[str, Any]:
    """A header dict: ``META``'s metadata (or ``meta``) and ``tensors`` (default: x[4])."""
    return {
        "__metadata__": META.to_header() if meta is None else meta,
        **(tensors or {"x": entry()}),
    }


def file_of(head: dict[str, Any] | bytes, data: bytes = X.tobytes()) -> bytes:
    """A model file: 8-byte length, the header (JSON-encoded unless bytes), the data."""
    text = head if isinstance(head, bytes) else json.dumps(head).encode()
    return len(text).to_bytes(8, "little") + text + data
