"""Roles and behaviour names, and who misbehaves in a run.

``--malicious free-rider:1,noise:0.2`` gives one client the free-rider
behaviour and 20 % of the clients the noise behaviour; the grammar and the
seeded draw are :mod:`flchain.learning.adversary`'s, the same ``flchain
baseline`` uses, so a run and its baseline attack the same way.
"""

from __future__ import annotations

from enum import StrEnum

from flchain.learning.adversary import assign_behaviours, parse_malicious
from flchain.learning.attacks import ATTACKS


class Role(StrEnum):
    """What a party process is."""

    CLIENT = "client"
    MINER = "miner"


class ClientBehaviour(StrEnum):
    """The client behaviours that are not attacks of the lab (rules in ``clients.behaviours``);
    every attack of :data:`flchain.learning.attacks.ATTACKS` is a client behaviour too."""

    HONEST = "honest"
    PLAGIARIST = "plagiarist"


class MinerBehaviour(StrEnum):
    """How a miner votes and attests (rules in ``miners.behaviours``)."""

    HONEST = "honest"
    NO_REVEAL = "no-reveal"
    WRONG_AGGREGATE = "wrong-aggregate"
    RANDOM_SCORES = "random-scores"
    INVERTED_SCORES = "inverted-scores"
    ALWAYS_ACCEPT = "always-accept"
    LAZY = "lazy"


HONEST = ClientBehaviour.HONEST.value
CLIENT_BEHAVIOURS = (*(b.value for b in ClientBehaviour), *ATTACKS)
MINER_BEHAVIOURS = tuple(b.value for b in MinerBehaviour)


def assign_miner_behaviours(text: str, n_miners: int) -> dict[int, str]:
    """Miners' behaviours under ``--malicious-miners NAME:COUNT,...``: the first indices lie."""
    counts = parse_malicious(text, n_miners, known=MINER_BEHAVIOURS)
    names = [name for name in sorted(counts) for _ in range(counts[name])]
    return dict(enumerate(names))


def assign_client_behaviours(text: str, n_clients: int, seed: int) -> list[str]:
    """Each client's behaviour under ``--malicious text`` (the one grammar and draw of
    :mod:`flchain.learning.adversary`, with this package's behaviour names)."""
    counts = parse_malicious(text, n_clients, known=CLIENT_BEHAVIOURS)
    return assign_behaviours(counts, n_clients, seed)
