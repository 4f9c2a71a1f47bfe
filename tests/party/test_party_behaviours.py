"""The --malicious syntax and the seeded assignment of behaviours."""

from __future__ import annotations

import pytest

from flchain.exceptions import ConfigError
from flchain.party.behaviours import assign_client_behaviours, assign_miner_behaviours
from flchain.task.accounts import (
    MAX_CLIENTS,
    MAX_MINERS,
    client_account,
    miner_account,
    task_accounts,
)


def test_counts_and_shares() -> None:
    drawn = assign_client_behaviours("free-rider:1,noise:0.2,plagiarist:1", 10, seed=0)
    assert sorted(b for b in drawn if b != "honest") == [
        "free-rider",
        "noise",
        "noise",
        "plagiarist",
    ]
    assert assign_client_behaviours("signflip:0.01", 10, seed=0).count("signflip") == 1
    assert assign_client_behaviours("", 10, seed=0) == ["honest"] * 10


def test_lying_miners_are_the_first_indices() -> None:
    assert assign_miner_behaviours("inverted-scores:2", 5) == {
        0: "inverted-scores",
        1: "inverted-scores",
    }
    assert assign_miner_behaviours("", 5) == {}
    with pytest.raises(ConfigError, match="unknown behaviour 'label-flip'"):
        assign_miner_behaviours("label-flip:1", 5)


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
        assign_client_behaviours(text, 5, seed=0)


def test_assignment_is_seeded_and_exact() -> None:
    first = assign_client_behaviours("free-rider:1,noise:2", 10, seed=0)
    assert first == assign_client_behaviours("free-rider:1,noise:2", 10, seed=0)
    assert first.count("free-rider") == 1 and first.count("noise") == 2
    assert first.count("honest") == 7


def test_account_layout_is_disjoint_for_any_number_of_parties() -> None:
    miners = {miner_account(j) for j in range(200)}
    clients = {client_account(i) for i in range(5000)}
    assert len(miners) == 200 and len(clients) == 5000
    assert not miners & clients and 0 not in miners | clients
    # the first nine miners and the first 30 clients keep the indices a 40-account node funds
    assert {miner_account(j) for j in range(9)} | {client_account(i) for i in range(30)} == set(
        range(1, 40)
    )
    assert miner_account(9) == client_account(MAX_CLIENTS - 1) + 1
    assert task_accounts(30, 3) == list(range(0, 4)) + list(range(10, 40))
    assert task_accounts(2, 11) == [0, *range(1, 10), 10, 11, miner_account(9), miner_account(10)]
    for bad in (lambda: miner_account(-1), lambda: miner_account(MAX_MINERS)):
        with pytest.raises(ConfigError, match="miner index"):
            bad()
    with pytest.raises(ConfigError, match="client index"):
        client_account(MAX_CLIENTS)
    with pytest.raises(ConfigError, match="party counts"):
        task_accounts(-1, 3)
