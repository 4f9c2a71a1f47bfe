"""The chain layer: the only package that talks to Ethereum nodes (web3, eth-account).

Public entry points::

    w3 = connect("http://127.0.0.1:8545")          # or connect_embedded()
    tx = Transactor(w3)
    me = tx.add_account(accounts_from_mnemonic(MNEMONIC, 1)[0])
    receipt = tx.transact(me, contract_address, calldata)
    for event in iter_logs(w3, contract_address, abi, ["UpdateSubmitted"], from_block=0):
        ...

Names are imported on first use, so that light modules of this package (the
node launcher, the testnet record) load without web3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flchain.chain.accounts import account_from_key, accounts_from_mnemonic
    from flchain.chain.connection import connect, connect_embedded, rpc, rpc_batch
    from flchain.chain.events import DecodedEvent, iter_logs
    from flchain.chain.transactor import Transactor, TxRequest

DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
"""The well-known development mnemonic of Anvil and Hardhat (never use it for value)."""

_LAZY = {
    "account_from_key": "accounts",
    "accounts_from_mnemonic": "accounts",
    "connect": "connection",
    "connect_embedded": "connection",
    "rpc": "connection",
    "rpc_batch": "connection",
    "DecodedEvent": "events",
    "iter_logs": "events",
    "Transactor": "transactor",
    "TxRequest": "transactor",
}

__all__ = [
    "DEFAULT_MNEMONIC",
    "DecodedEvent",
    "Transactor",
    "TxRequest",
    "account_from_key",
    "accounts_from_mnemonic",
    "connect",
    "connect_embedded",
    "iter_logs",
    "rpc",
    "rpc_batch",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flchain.chain' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"flchain.chain.{module}"), name)
    globals()[name] = value
    return value
