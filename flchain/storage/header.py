"""A safetensors header, bytes to a JSON object, within fixed limits.

The header comes from a peer, so nothing here recurses on its depth or grows
with a number it claims. Before ``json.loads`` sees a byte, one linear pass
(a possessive regex that always matches, so it never retries) blanks out every
string, and the remaining structure is measured: at most
:data:`MAX_HEADER_TOKENS` brackets and separators (and twice as many quotes),
nested at most
:data:`MAX_HEADER_DEPTH` deep (a safetensors header is an object of tensor
entries whose ``shape`` and ``data_offsets`` are lists: three levels). Python's
JSON parser recurses once per level, and importing web3 raises the recursion
limit far above what the C stack holds, so this bound is what keeps a crafted
header from crashing the process.

The parse itself is strict: UTF-8 only, no duplicate keys, integers of at most
:data:`MAX_INT_DIGITS` digits (Python's int-string limit would otherwise raise
a bare ``ValueError``), no fractions, no ``NaN``/``Infinity``, no lone UTF-16
surrogates. Every refusal is a :class:`HeaderError` naming what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

import numpy as np

from flchain.exceptions import HeaderError

MAX_HEADER_BYTES = 16 * 1024 * 1024
"""Longest header accepted (a tensor's entry takes about 70 bytes)."""

MAX_HEADER_DEPTH = 3
"""Deepest nesting accepted: header object, tensor entry, shape list."""

MAX_HEADER_TOKENS = 1 << 18
"""Most brackets, commas and colons accepted (about 15 per tensor); twice as many quotes."""

MAX_INT_DIGITS = 19
"""Longest integer accepted anywhere in a header (so it fits in an unsigned 64-bit int)."""

# A JSON string up to its closing quote, or up to the end when it is unterminated
# (json.loads then rejects it). Possessive, so it matches at every quote in one pass.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_STRUCTURE = bytes(set(range(256)) - set(b"[]{},:"))
_STEP = np.zeros(256, np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


def parse_header(text: bytes) -> dict[str, Any]:
    """Parse header bytes into a dict, or raise :class:`HeaderError`."""
    if len(text) > MAX_HEADER_BYTES:
        raise HeaderError(f"header is {len(text)} bytes, over the limit {MAX_HEADER_BYTES}")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HeaderError(f"header is not UTF-8: {exc}") from None
    check_structure(text)
    try:
        header = json.loads(
            decoded,
            object_pairs_hook=_no_duplicates,
            parse_int=_bounded_int,
            parse_float=_no_fraction,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        raise HeaderError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise HeaderError(f"header is a JSON {type(header).__name__}, not an object")
    try:
        json.dumps(header, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise HeaderError("header holds a lone UTF-16 surrogate escape") from None
    return header


def check_structure(text: bytes) -> None:
    """Refuse a header with too many quotes, brackets and separators, or nested too deep."""
    quotes = text.count(b'"')
    if quotes > 2 * MAX_HEADER_TOKENS:  # bounds the strings the scan below steps over
        raise HeaderError(f"header has {quotes} quotes, over the limit {2 * MAX_HEADER_TOKENS}")
    structure = _STRING.sub(b"", text).translate(None, _STRUCTURE)
    head = np.frombuffer(structure[: MAX_HEADER_TOKENS + 1], np.uint8)  # the depth of a prefix
    depth = int(np.cumsum(_STEP[head], dtype=np.int64).max()) if head.size else 0
    if depth > MAX_HEADER_DEPTH:
        raise HeaderError(
            f"header nests at least {depth} levels deep, over the limit {MAX_HEADER_DEPTH}"
        )
    if len(structure) > MAX_HEADER_TOKENS:
        raise HeaderError(
            f"header has {len(structure)} brackets and separators, "
            f"over the limit {MAX_HEADER_TOKENS}"
        )


def parse_uint(text: str, what: str, limit: int) -> int:
    """``text`` as an integer: ASCII digits only, at most ``MAX_INT_DIGITS``, at most ``limit``."""
    if not (0 < len(text) <= MAX_INT_DIGITS and text.isascii() and text.isdigit()):
        raise HeaderError(
            f"{what} {show(text)} is not a whole number of 1 to {MAX_INT_DIGITS} ASCII digits"
        )
    value = int(text)
    if value > limit:
        raise HeaderError(f"{what} {value} is over the limit {limit}")
    return value


def show(value: object, limit: int = 60) -> str:
    """A short repr of an untrusted value, for error messages."""
    if isinstance(value, (list, dict)):
        return f"a JSON {'array' if isinstance(value, list) else 'object'} of {len(value)}"
    text = repr(value[:limit] if isinstance(value, str) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise HeaderError(f"header has the key {show(key)} twice in one object")
        seen.add(key)
    return dict(pairs)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise HeaderError(f"header holds an integer of {len(text)} digits, over {MAX_INT_DIGITS}")
    return int(text)


def _no_fraction(text: str) -> NoReturn:
    raise HeaderError(f"header holds the non-integer number {show(text)}")


def _no_constant(text: str) -> NoReturn:
    raise HeaderError(f"header holds {text}, which is not standard JSON")
