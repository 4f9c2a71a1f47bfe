"""Who signs as what: the account layout of a task.

All accounts derive from the testnet mnemonic at the standard path
``m/44'/60'/0'/0/i`` (the one Anvil and Ganache fund):

======================  ===========================
account index           role
======================  ===========================
0                       deployer / admin
1 .. 9                  miners 0 .. 8
10 ..                   clients 0 .. (``10 + i``)
======================  ===========================

``ganache-config.json`` funds 40 accounts, so up to 9 miners and 30 clients
run without extra funding; the orchestrator funds any client account past the
funded range from the admin before it starts the children.
"""

from __future__ import annotations

from flchain.exceptions import ConfigError

ADMIN_ACCOUNT = 0
FIRST_MINER_ACCOUNT = 1
MAX_MINERS = 9
FIRST_CLIENT_ACCOUNT = FIRST_MINER_ACCOUNT + MAX_MINERS


def miner_account(index: int) -> int:
    """Mnemonic account index of miner ``index``."""
    if not 0 <= index < MAX_MINERS:
        raise ConfigError(f"miner index must be in 0..{MAX_MINERS - 1}, got {index}")
    return FIRST_MINER_ACCOUNT + index


def client_account(index: int) -> int:
    """Mnemonic account index of client ``index``."""
    if index < 0:
        raise ConfigError(f"client index must be non-negative, got {index}")
    return FIRST_CLIENT_ACCOUNT + index


def accounts_needed(clients: int, miners: int) -> int:
    """How many mnemonic accounts a task with this many parties uses."""
    if miners > MAX_MINERS:
        raise ConfigError(f"at most {MAX_MINERS} miners are supported, got {miners}")
    return FIRST_CLIENT_ACCOUNT + clients
