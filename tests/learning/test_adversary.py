"""The one ``--malicious`` grammar and the one seeded draw of who misbehaves."""

from __future__ import annotations

import pytest

from flchain.exceptions import ConfigError
from flchain.learning.adversary import HONEST, assign_behaviours, parse_malicious
from flchain.learning.attacks import ATTACKS


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("signflip:1", {"signflip": 1}),  # an integer is a count
        ("signflip:1.0", {"signflip": 10}),  # a decimal point makes it a share
        ("noise:0.2", {"noise": 2}),
        ("noise:0.01", {"noise": 1}),  # a positive share is at least one client
        ("noise:0.0", {"noise": 0}),
        ("free-rider:1, noise:0.2", {"free-rider": 1, "noise": 2}),
        ("alie:2,alie:1", {"alie": 3}),
        ("", {}),
    ],
)
def test_amounts(text: str, counts: dict[str, int]) -> None:
    assert parse_malicious(text, 10) == counts


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ddos:1", "unknown behaviour 'ddos' in --malicious entry 'ddos:1'"),
        ("noise", "'noise' must be NAME:AMOUNT"),
        ("noise:-1", "'noise:-1': amount must be a count or a share"),
        ("noise:1.5", "'noise:1.5': amount must be"),
        ("noise:lots", "'noise:lots': amount must be"),
        ("honest:1", "unknown behaviour 'honest'"),
        ("noise:5,signflip:6", "asks for more than 10 clients"),
    ],
)
def test_errors_name_the_bad_entry(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_malicious(text, 10)


def test_every_attack_is_accepted_and_callers_may_add_their_own() -> None:
    for name in ATTACKS:
        assert parse_malicious(f"{name}:1", 3) == {name: 1}
    assert parse_malicious("plagiarist:1", 3, known=("plagiarist",)) == {"plagiarist": 1}
    with pytest.raises(ConfigError):
        parse_malicious("signflip:1", 3, known=("plagiarist",))


def test_assignment_is_exact_seeded_and_order_free() -> None:
    counts = {"signflip": 3, "alie": 2}
    a = assign_behaviours(counts, 20, seed=0)
    assert a.count("signflip") == 3 and a.count("alie") == 2 and a.count(HONEST) == 15
    assert a == assign_behaviours(dict(reversed(counts.items())), 20, seed=0)
    assert a != assign_behaviours(counts, 20, seed=1)
    assert assign_behaviours({}, 4, seed=0) == [HONEST] * 4
    with pytest.raises(ConfigError, match="do not fit"):
        assign_behaviours({"noise": 5}, 4, seed=0)
