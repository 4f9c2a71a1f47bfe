"""Token and ether amounts as people read them.

On chain, reward tokens and ether both count in base units of 18 decimals
(``100 * 10**18`` is 100 tokens; bonds and slashes are wei). Reports keep the
exact integers in JSON and show :func:`format_units` everywhere else.
"""

from __future__ import annotations

DECIMALS = 18
BASE_UNITS = 10**DECIMALS
"""Base units per whole token (wei per ether)."""

TOKEN_SYMBOL = "FLR"
"""The symbol of the reward token every task deploys."""

ETHER_SYMBOL = "ETH"


SHOWN_PLACES = 4
"""Decimals shown for amounts that are not round (``69.6308 FLR``); JSON keeps them all."""


def format_units(
    amount: int | str, symbol: str = TOKEN_SYMBOL, places: int | None = SHOWN_PLACES
) -> str:
    """``100000000000000000000`` -> ``"100 FLR"``: whole units with thousands separators,
    rounded half-even to ``places`` decimals (all 18 when None) in integer arithmetic,
    no trailing zeros: ``"1,234.5 FLR"``. An amount that would round to 0 is shown exactly."""
    value = int(amount)
    magnitude = abs(value)
    if places is not None and places < DECIMALS:
        step = 10 ** (DECIMALS - places)
        quotient, remainder = divmod(magnitude, step)
        if 2 * remainder > step or (2 * remainder == step and quotient % 2):
            quotient += 1
        magnitude = quotient * step if quotient else magnitude
    whole, fraction = divmod(magnitude, BASE_UNITS)
    text = f"{whole:,}"
    if fraction:
        text += "." + f"{fraction:0{DECIMALS}d}".rstrip("0")
    return f"{'-' if value < 0 else ''}{text} {symbol}"


def to_units(amount: int | str) -> float:
    """An amount in whole tokens (or ether) as a float, for plotting."""
    return float(int(amount) / BASE_UNITS)
