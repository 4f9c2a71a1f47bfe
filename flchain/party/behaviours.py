"""Roles, behaviour names, and the ``--malicious`` syntax that assigns client behaviours.

``--malicious free-rider:1,noise:0.2`` gives one client the free-rider
behaviour and 20 % of the clients the noise behaviour: an integer is a count,
a number with a decimal point a share (rounded, at least one if positive).
Which clients misbehave is drawn from the task seed, so a run is reproducible.
"""

from __future__ import annotations

import random
from enum import StrEnum

from flchain.exceptions import ConfigError


class Role(StrEnum):
    """What a party process is."""

    CLIENT = "client"
    MINER = "miner"


class ClientBehaviour(StrEnum):
    """What a client submits (rules in ``clients.behaviours``)."""

    HONEST = "honest"
    NOISE = "noise"
    SIGNFLIP = "signflip"
    FREE_RIDER = "free-rider"
    PLAGIARIST = "plagiarist"


class MinerBehaviour(StrEnum):
    """How a miner votes and attests (rules in ``miners.behaviours``); all but
    ``honest`` are hidden test hooks."""

    HONEST = "honest"
    NO_REVEAL = "no-reveal"
    WRONG_AGGREGATE = "wrong-aggregate"


HONEST = "honest"
CLIENT_BEHAVIOURS = tuple(b.value for b in ClientBehaviour)
MINER_BEHAVIOURS = tuple(b.value for b in MinerBehaviour)


def parse_malicious(text: str, n_clients: int) -> dict[str, int]:
    """Parse ``name:amount,...`` into behaviour → number of clients."""
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, amount = part.partition(":")
        if not sep:
            raise ConfigError(f"--malicious entry {part!r} must be NAME:AMOUNT")
        if name not in CLIENT_BEHAVIOURS or name == HONEST:
            allowed = ", ".join(b for b in CLIENT_BEHAVIOURS if b != HONEST)
            raise ConfigError(f"unknown behaviour {name!r} in --malicious (use {allowed})")
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
    order = list(range(n_clients))
    random.Random(f"behaviours:{seed}").shuffle(order)
    behaviours = [HONEST] * n_clients
    cursor = 0
    for name in sorted(counts):
        for _ in range(counts[name]):
            behaviours[order[cursor]] = name
            cursor += 1
    return behaviours
