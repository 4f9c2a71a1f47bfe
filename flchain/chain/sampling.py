"""Which clients train in a round: ``ClientSample`` (``contracts/libraries/ClientSample.sol``).

With ``clients_per_round`` K > 0, each registration gives the client a fresh
index (``ClientRegistered.index``), and round r draws from the ``population``
registrations made before it opened (``RoundOpened.population``):
client i trains iff ``i < population`` and ``position(seed, population, i) < K``,
``seed`` being round r's committee seed (``CommitteeDrawn.seed``). ``position``
is a keyed permutation (a four-round Feistel network walked in cycles), so
exactly ``min(K, population)`` indices are drawn and the auditor redraws them
from the chain's events alone.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from flchain.exceptions import ConfigError

ROUNDS = 4
"""Feistel rounds (``ClientSample.ROUNDS``)."""


def position(seed: bytes, population: int, index: int) -> int:
    """``ClientSample.position``: index ``index``'s place in the round's permutation of
    ``0 .. population - 1``."""
    if len(seed) != 32:
        raise ConfigError(f"a sampling seed is 32 bytes, not {len(seed)}")
    if not 0 <= index < population:
        raise ConfigError(f"client index {index} is outside the population of {population}")
    half = 1
    while 1 << (2 * half) < population:
        half += 1
    mask = (1 << half) - 1
    x = index
    while True:
        left, right = x >> half, x & mask
        for j in range(ROUNDS):
            word = keccak(seed + j.to_bytes(32, "big") + right.to_bytes(32, "big"))
            left, right = right, left ^ (int.from_bytes(word, "big") & mask)
        x = (left << half) | right
        if x < population:
            return x


def is_sampled(seed: bytes, population: int, per_round: int, index: int) -> bool:
    """Whether client ``index`` trains in a round of ``population`` drawing ``per_round``
    (0: every client does)."""
    if per_round == 0:
        return True
    return 0 <= index < population and position(seed, population, index) < per_round


def sampled_indices(seed: bytes, population: int, per_round: int) -> list[int]:
    """The indices a round draws, ascending (all of them when ``per_round`` is 0)."""
    return [i for i in range(population) if is_sampled(seed, population, per_round, i)]
