"""The header scanner: string state, depth, and linear time on hostile inputs."""

from __future__ import annotations

import time

import pytest

from flchain.exceptions import HeaderError
from flchain.storage.header import (
    MAX_HEADER_BYTES,
    MAX_HEADER_TOKENS,
    check_structure,
    parse_header,
    parse_uint,
    show,
)


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": [[1]]}',
        b'{"a": "[[[[[[", "b": [1]}',
        b'{"a": "\\"[[[[[[", "b": {"c": []}}',
        b'{"a": "\\\\", "b": {"c": []}}',
        b'"[[[[[[[[',  # unterminated: json.loads refuses it, nothing past the quote counts
        b'"\\',
    ],
)
def test_nesting_inside_strings_is_not_counted(text: bytes) -> None:
    check_structure(text)


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": [[[1]]]}',
        b'{"a": "\\\\", "b": {"c": [[]]}}',
        b'{"a": "x"}[[[[',
    ],
)
def test_nesting_past_three_levels_is_refused(text: bytes) -> None:
    with pytest.raises(HeaderError, match="levels deep"):
        check_structure(text)


@pytest.mark.parametrize(
    "text",
    [
        b'"' + b'\\"' * (MAX_HEADER_BYTES // 2 - 1),  # every quote escaped, never closed
        b'"' + b'\\"' * (MAX_HEADER_TOKENS - 1) + b"\\",
        b'"' + b"\\x" * (MAX_HEADER_BYTES // 2 - 1),
        b'"a' * MAX_HEADER_TOKENS,
        b'"a' * (MAX_HEADER_BYTES // 2),
        b"[" * MAX_HEADER_BYTES,
        b" " * MAX_HEADER_BYTES,
    ],
)
def test_largest_hostile_headers_are_handled_in_linear_time(text: bytes) -> None:
    assert len(text) <= MAX_HEADER_BYTES
    start = time.process_time()  # this process's CPU time: a loaded machine does not count
    with pytest.raises(HeaderError):
        parse_header(text)
    assert time.process_time() - start < 5


def test_parse_uint_takes_ascii_digits_only() -> None:
    assert parse_uint("0", "n", 10) == 0
    assert parse_uint("0010", "n", 10) == 10
    for bad in ("²", "١", "1_0", "", " 1", "1 ", "-1", "1" * 20):
        with pytest.raises(HeaderError, match="not a whole number"):
            parse_uint(bad, "n", 10**30)
    with pytest.raises(HeaderError, match="n 11 is over the limit 10"):
        parse_uint("11", "n", 10)


def test_show_is_short_whatever_it_is_given() -> None:
    assert show("abc") == "'abc'"
    assert len(show("x" * 10**6)) == 60
    assert show([1] * 10**6) == "a JSON array of 1000000"
    assert show({"a": 1}) == "a JSON object of 1"
