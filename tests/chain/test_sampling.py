"""The client draw's mirror (``flchain.chain.sampling``): a permutation, exactly K drawn,
and bad inputs named. Its equality with the contract's draw is checked on Anvil
(``tests/contracts/test_errors.py``) and by forge (``contracts/test/FLSampling.t.sol``)."""

from __future__ import annotations

import hashlib

import pytest

from flchain.chain.sampling import is_sampled, position, sampled_indices
from flchain.exceptions import ConfigError


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


@pytest.mark.parametrize("population", [1, 2, 3, 4, 5, 16, 17, 100, 257])
def test_positions_are_a_permutation_of_the_population(population: int) -> None:
    places = [position(seed(f"p{population}"), population, i) for i in range(population)]
    assert sorted(places) == list(range(population))


@pytest.mark.parametrize(("population", "k"), [(10, 3), (100, 10), (5, 5), (3, 7)])
def test_exactly_k_of_the_population_are_drawn(population: int, k: int) -> None:
    drawn = sampled_indices(seed("draw"), population, k)
    assert len(drawn) == min(k, population) and drawn == sorted(set(drawn))
    assert all(is_sampled(seed("draw"), population, k, i) == (i in drawn) for i in range(20))


def test_the_draw_moves_with_the_seed_and_nobody_is_left_out_for_long() -> None:
    draws = [tuple(sampled_indices(seed(f"round {r}"), 50, 5)) for r in range(40)]
    assert len(set(draws)) == 40
    assert {i for d in draws for i in d} == set(range(50))  # 200 seats: everyone drawn


def test_without_sampling_every_client_trains() -> None:
    assert sampled_indices(bytes(32), 4, 0) == [0, 1, 2, 3]
    assert is_sampled(b"", 0, 0, 7)  # no seed needed


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ConfigError, match="32 bytes, not 3"):
        position(b"abc", 4, 0)
    with pytest.raises(ConfigError, match="index 4 is outside the population of 4"):
        position(bytes(32), 4, 4)
    assert not is_sampled(bytes(32), 4, 2, 9)  # a later joiner is outside the round's draw
