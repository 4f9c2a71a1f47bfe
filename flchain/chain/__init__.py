"""The chain layer: the only package that talks to Ethereum nodes (web3, eth-account).

Public entry points::

    w3 = connect("http://127.0.0.1:8545")          # or connect_embedded()
    tx = Transactor(w3)
    me = tx.add_account(accounts_from_mnemonic(MNEMONIC, 1)[0])
    receipt = tx.transact(me, contract_address, calldata)
    for event in iter_logs(w3, contract_address, abi, ["Submitted"], from_block=0):
        ...
"""

from __future__ import annotations

from flchain.chain.accounts import account_from_key, accounts_from_mnemonic
from flchain.chain.connection import DEFAULT_MNEMONIC, connect, connect_embedded, rpc, rpc_batch
from flchain.chain.events import DecodedEvent, iter_logs
from flchain.chain.transactor import Transactor, TxRequest

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
