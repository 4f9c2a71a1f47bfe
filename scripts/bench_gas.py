"""Gas of every protocol step, on a fresh local Anvil node.

For each number of updates N and committee size k: deploy, register N clients
and k miners, run one warm-up round, then measure a full round (submit, commit,
reveal, every page of finalize, certify) and one claim by a client and by a miner.
Prints a table, or JSON with ``--json`` (top-level ``submit`` is the gas of one
submission in the largest configuration).

"per update" is what one update costs the protocol per round:

    submit + (commit + reveal) * k / N + finalize pages / N + certification / N
    + claim * (N + k) / (10 * N)      (every account claims once per 10 rounds)

The claims measured are a client's first (its token balance slot is new) and a miner's, after
one warm-up claim: the task's very first claim also creates the token's supply slot.

    python scripts/bench_gas.py [--json] [--updates 10 100 1000] [--committee 3 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from flchain.chain import Transactor, TxRequest, accounts_from_mnemonic, connect, rpc
from flchain.chain.deploy import deploy_protocol
from flchain.chain.node import NodeConfig, free_port, start_node
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase, TaskParams
from flchain.storage.cid import CID, RAW
from flchain.types import Address, CIDStr


def seed_cid(seed: str) -> CID:
    """A CIDv1 raw-leaf CID of the bytes of ``seed``."""
    return CID.for_block(seed.encode(), version=1, codec=RAW)


def cid(seed: str) -> CIDStr:
    return seed_cid(seed).encode()


BASE = TaskParams(
    initial_model_cid=cid("initial"),
    spec_cid=cid("spec"),
    submit_duration=3_600,
    commit_duration=3_600,
    reveal_duration=3_600,
    client_bond=10**15,
    miner_bond=10**16,
)


def gas(receipts: list[Any]) -> list[int]:
    return [int(r["gasUsed"]) for r in receipts]


def run_round(
    tx: Transactor,
    protocol: ProtocolClient,
    clients: list[Address],
    by_address: dict[Address, ProtocolClient],
    round: int,
    quorum: int,
) -> dict[str, list[int]]:
    """One full round; returns the gas of each step."""
    submit = [
        TxRequest(
            c,
            protocol.address,
            protocol.abi.encode_call(
                "submitUpdate", round, seed_cid(f"r{round}/{i}").to_bytes(), 500 + i
            ),
        )
        for i, c in enumerate(clients)
    ]
    out: dict[str, list[int]] = {"submit": gas(tx.transact_many(submit))}
    committee = [by_address[m] for m in protocol.committee(round)]
    n = len(clients)
    scores = [7_000 if i % 4 else 2_000 for i in range(n)]
    salts = [os.urandom(32) for _ in committee]
    pairs = list(zip(committee, salts, strict=True))
    commitments = [m.vote_commitment(round, scores, s) for m, s in pairs]
    out["commit"] = gas(
        [pm.commit_votes(round, c) for (pm, _), c in zip(pairs, commitments, strict=True)]
    )
    out["reveal"] = gas([m.reveal_votes(round, scores, s) for m, s in pairs])
    assert protocol.phase(round) is Phase.CLOSED
    out["finalize"] = gas(protocol.finalize(round))
    aggregate = cid(f"aggregate {round}")
    out["certify"] = gas([m.certify_aggregate(round, aggregate) for m in committee[:quorum]])
    return out


def measure(rpc_url: str, mnemonic: str, n: int, k: int) -> dict[str, Any]:
    w3 = connect(rpc_url)
    tx = Transactor(w3)
    accounts = [tx.add_account(a) for a in accounts_from_mnemonic(mnemonic, 1 + k + n)]
    admin, miners, clients = accounts[0], accounts[1 : 1 + k], accounts[1 + k :]
    params = replace(BASE, committee_size=k, quorum=k // 2 + 1, max_updates_per_round=n)
    deploy_start = tx.block_number()
    deployment = deploy_protocol(tx, admin, params)
    # one transaction per block (automine): the Scoring library, the protocol (which creates its
    # token), then the prepareSlots pages
    deploy_txs = [
        int(rpc(w3, "eth_getBlockByNumber", [hex(b), False])["gasUsed"], 16)
        for b in range(deploy_start + 1, tx.block_number() + 1)
    ]
    by_address = {
        a: ProtocolClient(tx, deployment.protocol, a, from_block=deployment.block) for a in accounts
    }
    protocol = by_address[admin]
    register = protocol.abi.encode_call("registerClient")
    reg_c = gas(
        tx.transact_many(
            [TxRequest(c, deployment.protocol, register, params.client_bond) for c in clients]
        )
    )
    reg_m = gas([by_address[m].register_miner() for m in miners])
    start = gas([protocol.start_training()])
    run_round(tx, protocol, clients, by_address, 0, params.quorum)  # warm-up
    # The task's first claim also creates the token's supply slot (20k once per task): let one
    # client claim here, so the claims measured below are a typical client's and miner's.
    first = next(c for c in clients if by_address[c].claimable())
    by_address[first].claim()
    steps = run_round(tx, protocol, clients, by_address, 1, params.quorum)
    payee = next(c for c in clients if c != first and by_address[c].claimable())
    member = next(m for m in miners if by_address[m].claimable())
    claims = gas([by_address[payee].claim(), by_address[member].claim()])
    committee_total = sum(steps["commit"]) + sum(steps["reveal"]) + sum(steps["finalize"])
    per_update = (
        statistics.median(steps["submit"])
        + (sum(steps["commit"]) + sum(steps["reveal"])) / n
        + sum(steps["finalize"]) / n
        + sum(steps["certify"]) / n
        + max(claims) * (n + k) / (10 * n)
    )
    return {
        "updates": n,
        "committee": k,
        "deploy": deploy_txs[1],
        "deploy_library": deploy_txs[0],
        "prepare_pages": len(deploy_txs) - 2,
        "prepare_page_max": max(deploy_txs[2:], default=0),
        "register_client": int(statistics.median(reg_c)),
        "register_miner": int(statistics.median(reg_m)),
        "start_training": start[0],
        "submit": int(statistics.median(steps["submit"])),
        "submit_max": max(steps["submit"]),
        "commit": int(statistics.median(steps["commit"])),
        "reveal": int(statistics.median(steps["reveal"])),
        "finalize_pages": len(steps["finalize"]),
        "finalize_page_max": max(steps["finalize"]),
        "finalize": sum(steps["finalize"]),
        "claim_client": claims[0],
        "claim_miner": claims[1],
        "per_update": int(per_update),
        "largest_tx": max(max(max(v) for v in steps.values()), *claims, *deploy_txs),
        "certify": steps["certify"][0],
        "certify_quorum": steps["certify"][-1],
        "committee_per_update": committee_total // n,
        "round_per_update": (committee_total + sum(steps["submit"]) + sum(steps["certify"])) // n,
    }


COLUMNS = [
    ("updates", "N"),
    ("committee", "k"),
    ("submit", "submit"),
    ("submit_max", "submit max"),
    ("commit", "commit"),
    ("reveal", "reveal"),
    ("finalize_pages", "fin pages"),
    ("finalize_page_max", "fin page max"),
    ("finalize", "finalize"),
    ("claim_client", "claim"),
    ("certify", "attest"),
    ("certify_quorum", "certifying"),
    ("committee_per_update", "committee/upd"),
    ("round_per_update", "round/upd"),
    ("per_update", "per update"),
    ("largest_tx", "largest tx"),
    ("register_client", "reg client"),
    ("register_miner", "reg miner"),
    ("deploy", "deploy"),
    ("deploy_library", "deploy lib"),
    ("prepare_pages", "prep pages"),
    ("prepare_page_max", "prep page max"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--updates", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--committee", type=int, nargs="+", default=[3, 5])
    args = parser.parse_args()

    accounts = 1 + max(args.committee) + max(args.updates)
    config = NodeConfig(accounts=accounts, hardfork="shanghai").with_port(free_port())
    with tempfile.TemporaryDirectory() as tmp:
        node = start_node("anvil", config, log_path=Path(tmp) / "anvil.log")
        try:
            rows = []
            for n in args.updates:
                for k in args.committee:
                    rpc(connect(node.rpc_url), "anvil_reset", [])
                    rows.append(measure(node.rpc_url, node.mnemonic, n, k))
        finally:
            node.stop()

    largest = rows[-1]
    if args.json:
        print(json.dumps({"submit": largest["submit"], "configs": rows}, indent=2))
        return 0
    header = "".join(f"{title:>14}" for _, title in COLUMNS)
    print(header)
    for row in rows:
        print("".join(f"{row[key]:>14,}" for key, _ in COLUMNS))
    print(
        "\ngas per transaction (medians); attest = first attestation, certifying = the q-th"
        "\ncommittee/upd = (k commits + k reveals + finalize pages) / N;"
        " round/upd adds submissions and attestations;"
        "\nper update adds one claim per account every 10 rounds; largest tx: any measured"
        " (deployment and prepareSlots pages included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
