"""Transactions per second one Python process sustains through the chain layer.

Starts a private node (Anvil unless ``--backend``) on a free 127.0.0.1 port, deploys the project's
FLToken (an OpenZeppelin ERC-20), funds a few sender accounts, and times
``FLToken.transfer`` calls, each a separate signed transaction with its own
receipt checked for success:

* ``sequential``: ``Transactor.transact`` one at a time (sign, send, wait);
* ``ordered``: ``Transactor.transact_many`` — sign all, send them back to back
  (one request each, so the chain keeps the list's order), then collect the
  receipts in JSON-RPC batches;
* ``batched``: ``transact_many(..., ordered=False)`` — sign all, send them in
  JSON-RPC batches holding one transaction per sender, collect receipts in
  batches (the headline ``tx_per_s``).

Gas limits are fixed (no per-transaction ``eth_estimateGas``), as a client that
knows its call does. Usage: ``python scripts/bench_tx.py [--n 2000] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from flchain.chain import Transactor, TxRequest, accounts_from_mnemonic, connect
from flchain.chain.abicodec import ContractABI
from flchain.chain.artifacts import load_artifact
from flchain.chain.node import NodeConfig, start_on_free_port
from flchain.types import Address

TRANSFER_GAS = 60_000


def _setup(tx: Transactor, senders: list[Address]) -> tuple[ContractABI, Address]:
    artifact = load_artifact("FLToken")
    token = ContractABI(artifact["abi"])
    tx.register_errors(token.abi)
    admin = senders[0]
    # the deployer of a bare token is its minter
    receipt = tx.transact(admin, None, token.encode_deploy(artifact["bytecode"], "B", "B"))
    address = Address(str(receipt["contractAddress"]))
    for sender in senders:
        tx.transact(admin, address, token.encode_call("mint", sender, 10**30))
    return token, address


RECEIVER = Address("0x" + "42" * 20)


def _transfers(
    token: ContractABI, address: Address, senders: list[Address], n: int
) -> list[TxRequest]:
    return [
        TxRequest(
            senders[i % len(senders)],
            address,
            token.encode_call("transfer", RECEIVER, 1),
            gas=TRANSFER_GAS,
        )
        for i in range(n)
    ]


def run(n: int, senders_count: int, sequential_n: int, backend: str = "anvil") -> dict[str, Any]:
    """Start a node, measure the three modes, stop the node; returns the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        config = NodeConfig(accounts=senders_count + 1, hardfork="shanghai")
        node = start_on_free_port(backend, config, log_path=Path(tmp) / "node.log")
        try:
            w3 = connect(node.rpc_url)
            tx = Transactor(w3)
            senders = [
                tx.add_account(a) for a in accounts_from_mnemonic(node.mnemonic, senders_count)
            ]
            token, address = _setup(tx, senders)

            batch = _transfers(token, address, senders, sequential_n)
            start = time.perf_counter()
            for req in batch:
                tx.transact(req.sender, req.to, req.data, gas=req.gas)
            sequential = sequential_n / (time.perf_counter() - start)

            rates = {}
            for ordered in (True, False):
                batch = _transfers(token, address, senders, n)
                start = time.perf_counter()
                tx.transact_many(batch, ordered=ordered)  # raises if any transaction failed
                rates[ordered] = n / (time.perf_counter() - start)
            balance = token.decode_result(
                "balanceOf", tx.call(address, token.encode_call("balanceOf", RECEIVER))
            )[0]
            if balance != 2 * n + sequential_n:  # every transfer landed exactly once
                raise RuntimeError(f"receiver holds {balance}, expected {2 * n + sequential_n}")
        finally:
            node.stop()
    return {
        "tx_per_s": round(rates[False], 1),
        "ordered_tx_per_s": round(rates[True], 1),
        "sequential_tx_per_s": round(sequential, 1),
        "transactions": n,
        "stalls_recovered": tx.stalls,
        "senders": senders_count,
        "call": "FLToken.transfer (OpenZeppelin ERC-20), gas limit fixed",
        "backend": f"{backend} (automine)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="transactions per pipelined run")
    parser.add_argument("--sequential", type=int, default=300, help="transactions sent one by one")
    parser.add_argument("--senders", type=int, default=8, help="accounts sending in turn")
    parser.add_argument("--backend", default="anvil", choices=["anvil", "ganache", "embedded"])
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best one is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    runs = [
        run(args.n, args.senders, args.sequential, args.backend) for _ in range(max(args.repeat, 1))
    ]
    result = max(runs, key=lambda r: float(r["tx_per_s"]))
    for key in ("ordered_tx_per_s", "sequential_tx_per_s"):
        result[key] = max(float(r[key]) for r in runs)
    result["runs"] = len(runs)
    if args.json:
        print(json.dumps(result))
        return
    print(f"batched    : {result['tx_per_s']:8.1f} tx/s ({result['transactions']} tx)")
    print(f"ordered    : {result['ordered_tx_per_s']:8.1f} tx/s")
    print(f"sequential : {result['sequential_tx_per_s']:8.1f} tx/s")
    print(f"call       : {result['call']}, {result['senders']} senders, {result['backend']}")


if __name__ == "__main__":
    main()
