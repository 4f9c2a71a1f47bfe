"""Who misbehaves: the one ``--malicious`` grammar and the one seeded draw.

``--malicious free-rider:1,noise:0.2`` gives one client the free-rider
behaviour and 20 % of the clients the noise behaviour: ``NAME:AMOUNT``,
comma-separated; an integer AMOUNT is a count, a number with a decimal point a
share of the clients (rounded, at least one if positive). Names are the
attacks of :data:`flchain.learning.attacks.ATTACKS` unless the caller passes
its own list. Which clients misbehave is drawn from the seed alone, so a run
is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Collection

from flchain.exceptions import ConfigError
from flchain.learning.attacks import ATTACKS

HONEST = "honest"


def parse_malicious(
    text: str, n_clients: int, known: Collection[str] | None = None
) -> dict[str, int]:
    """Parse ``name:amount,...`` into behaviour → number of clients."""
    names = ATTACKS.keys() if known is None else known
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, amount = part.partition(":")
        if not sep:
            raise ConfigError(f"--malicious entry {part!r} must be NAME:AMOUNT")
        if name not in names or name == HONEST:
            allowed = ", ".join(sorted(n for n in names if n != HONEST))
            raise ConfigError(
                f"unknown behaviour {name!r} in --malicious entry {part!r} (use {allowed})"
            )
        counts[name] = counts.get(name, 0) + _amount(amount, n_clients, part)
    if sum(counts.values()) > n_clients:
        raise ConfigError(f"--malicious {text!r} asks for more than {n_clients} clients")
    return counts


def _amount(text: str, n_clients: int, part: str) -> int:
    try:
        if "." in text:
            share = float(text)
            if not 0 <= share <= 1:
                raise ValueError
            return max(1, round(share * n_clients)) if share > 0 else 0
        count = int(text)
        if count < 0:
            raise ValueError
        return count
    except ValueError:
        raise ConfigError(
            f"--malicious entry {part!r}: amount must be a count or a share in [0, 1]"
        ) from None


def assign_behaviours(counts: dict[str, int], n_clients: int, seed: int) -> list[str]:
    """Behaviour of each client index, drawn reproducibly from ``seed``."""
    if sum(counts.values()) > n_clients:
        raise ConfigError(f"{sum(counts.values())} misbehaving clients do not fit in {n_clients}")
    order = list(range(n_clients))
    random.Random(f"behaviours:{seed}").shuffle(order)
    behaviours = [HONEST] * n_clients
    cursor = 0
    for name in sorted(counts):
        for _ in range(counts[name]):
            behaviours[order[cursor]] = name
            cursor += 1
    return behaviours
