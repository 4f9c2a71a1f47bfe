"""Who signs as what: the account layout of a task.

All accounts derive from the testnet mnemonic at the standard path
``m/44'/60'/0'/0/i`` (the one Anvil and Ganache fund):

==============================  ==================================
account index                   role
==============================  ==================================
0                               deployer / admin
1 .. 9                          miners 0 .. 8
10 .. 10 + MAX_CLIENTS − 1      clients 0 .. (``10 + i``)
EXTRA_MINER_ACCOUNT ..          miners 9 .. (``EXTRA_MINER_ACCOUNT + j − 9``)
==============================  ==================================

The first nine miners and the clients keep the indices a development node
funds (``ganache-config.json`` funds 40: 9 miners and 30 clients); the
orchestrator funds every other account a task uses (:func:`task_accounts`)
from the admin before it starts the parties, so any number of both runs.
"""

from __future__ import annotations

from flchain.exceptions import ConfigError

ADMIN_ACCOUNT = 0
FIRST_MINER_ACCOUNT = 1
LOW_MINERS = 9
"""Miners 0..8 sit right after the admin, inside every development node's funded range."""
FIRST_CLIENT_ACCOUNT = FIRST_MINER_ACCOUNT + LOW_MINERS
MAX_CLIENTS = 1 << 24
EXTRA_MINER_ACCOUNT = FIRST_CLIENT_ACCOUNT + MAX_CLIENTS
"""Miner ``LOW_MINERS`` (the tenth) and those after it, past every client index."""
MAX_MINERS = 1 << 20


def miner_account(index: int) -> int:
    """Mnemonic account index of miner ``index``."""
    if not 0 <= index < MAX_MINERS:
        raise ConfigError(f"miner index must be in 0..{MAX_MINERS - 1}, got {index}")
    if index < LOW_MINERS:
        return FIRST_MINER_ACCOUNT + index
    return EXTRA_MINER_ACCOUNT + index - LOW_MINERS


def client_account(index: int) -> int:
    """Mnemonic account index of client ``index``."""
    if not 0 <= index < MAX_CLIENTS:
        raise ConfigError(f"client index must be in 0..{MAX_CLIENTS - 1}, got {index}")
    return FIRST_CLIENT_ACCOUNT + index


def task_accounts(clients: int, miners: int) -> list[int]:
    """Every mnemonic account index a task with this many parties signs with, ascending."""
    if clients < 0 or miners < 0:
        raise ConfigError(f"party counts must be >= 0, got {clients} clients, {miners} miners")
    return sorted(
        {ADMIN_ACCOUNT}
        | {miner_account(j) for j in range(miners)}
        | {client_account(i) for i in range(clients)}
    )
