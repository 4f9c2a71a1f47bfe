"""The --malicious syntax and the seeded assignment of behaviours."""

from __future__ import annotations

import pytest

from flchain.exceptions import ConfigError
from flchain.party.behaviours import assign_behaviours, parse_malicious
from flchain.task.accounts import accounts_needed, client_account, miner_account


def test_counts_and_shares() -> None:
    assert parse_malicious("free-rider:1,noise:0.2", 10) == {"free-rider": 1, "noise": 2}
    assert parse_malicious("signflip:0.01", 10) == {"signflip": 1}
    assert parse_malicious("", 10) == {}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("evil:1", "unknown behaviour 'evil'"),
        ("noise", "NAME:AMOUNT"),
        ("noise:x", "amount"),
        ("noise:1.5", "amount"),
        ("noise:3,signflip:3", "more than 5"),
    ],
)
def test_bad_malicious_specs(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_malicious(text, 5)


def test_assignment_is_seeded_and_exact() -> None:
    counts = {"free-rider": 1, "noise": 2}
    first = assign_behaviours(counts, 10, seed=0)
    assert first == assign_behaviours(counts, 10, seed=0)
    assert first.count("free-rider") == 1 and first.count("noise") == 2
    assert first.count("honest") == 7


def test_account_layout_is_disjoint() -> None:
    miners = {miner_account(j) for j in range(9)}
    clients = {client_account(i) for i in range(30)}
    assert not miners & clients and 0 not in miners | clients
    assert accounts_needed(30, 3) == 40
    with pytest.raises(ConfigError):
        miner_account(9)
