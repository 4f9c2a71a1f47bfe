"""Token and ether amounts are shown exactly, in whole units."""

from __future__ import annotations

import pytest

from flchain.units import BASE_UNITS, ETHER_SYMBOL, format_units, to_units


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (100 * 10**18, "100 FLR"),
        ("100000000000000000000", "100 FLR"),
        (0, "0 FLR"),
        (1_234_500_000_000_000_000_000, "1,234.5 FLR"),
        (1, "0.000000000000000001 FLR"),  # would round to 0: shown exactly
        (-3 * 10**17, "-0.3 FLR"),
        (69_630_759_045_860_091_637, "69.6308 FLR"),
        (12_500 * 10**13 + 1, "0.125 FLR"),
        (12_505 * 10**13, "0.125 FLR"),  # a half rounds to even
        (12_515 * 10**13, "0.1252 FLR"),
        (9_999_996 * 10**13, "100 FLR"),
        (2**256 - 1, f"{(2**256 - 1) // BASE_UNITS:,}.584 FLR"),
    ],
)
def test_amounts_are_shown_in_whole_units(amount: int | str, shown: str) -> None:
    assert format_units(amount) == shown


def test_all_decimals_on_request() -> None:
    exact = 2**256 - 1
    assert format_units(exact, places=None) == (
        f"{exact // BASE_UNITS:,}.{exact % BASE_UNITS:018d} FLR"
    )
    assert format_units(69_630_759_045_860_091_637, places=None) == "69.630759045860091637 FLR"


def test_ether_and_plot_values() -> None:
    assert format_units(10**17, ETHER_SYMBOL) == "0.1 ETH"
    assert to_units(130 * 10**18) == 130.0
    with pytest.raises(ValueError):
        format_units("1e18")
