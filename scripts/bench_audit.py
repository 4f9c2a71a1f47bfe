"""Benchmark: audit a task of 50 rounds x 20 clients (or any size, on any built-in data set).

Starts its own Anvil on a free 127.0.0.1 port, builds a real history quickly by
driving the protocol from one process (20 clients training and submitting
encoded models to a LocalStore, a committee of miners committing and revealing
computed scores, finalize, certify the aggregate; see
``flchain.simulation.synthetic``), then times the audit:

* ``audit_s``: read the history from the node, recompute every decision,
  fetch/verify/re-aggregate every model, evaluate and re-score on the test data,
  render JSON and HTML (in this process);
* ``cli_s``: the same through ``flchain audit --json --html`` in a fresh process
  (interpreter and library start-up included).

    .venv/bin/python scripts/bench_audit.py --json
    .venv/bin/python scripts/bench_audit.py --json --rounds 5 --clients 1000 \
        --dataset mnist1d-31000 --arch mnist1d-cnn          # the 1000-client audit
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flchain.audit.auditor import audit_history
from flchain.audit.history import Source, load_history, load_test_data
from flchain.audit.html import render_html
from flchain.audit.report import to_json
from flchain.chain.node import NodeConfig, free_port, start_node
from flchain.simulation.synthetic import SyntheticTask, build_history
from flchain.storage import LocalStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--miners", type=int, default=3)
    parser.add_argument("--dataset", default="digits", help="e.g. mnist1d-31000 for 1000 clients")
    parser.add_argument("--arch", default="digits-mlp", help="e.g. mnist1d-cnn")
    parser.add_argument("--no-cli", action="store_true", help="skip timing the CLI process")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        root = Path(tmp)
        accounts = 10 + args.clients
        config = NodeConfig(accounts=accounts, hardfork="shanghai").with_port(free_port())
        node = start_node("anvil", config, log_path=root / "node.log")
        try:
            figures = run(node.rpc_url, node.mnemonic, root, args)
        finally:
            node.stop()
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")


def run(rpc_url: str, mnemonic: str, root: Path, args: argparse.Namespace) -> dict[str, object]:
    store = LocalStore(root / "store")
    task = SyntheticTask(
        clients=args.clients,
        miners=args.miners,
        rounds=args.rounds,
        attackers={0: "signflip", 1: "free-rider"},
        dataset=args.dataset,
        arch=args.arch,
    )
    start = time.perf_counter()
    built = build_history(rpc_url, mnemonic, store, task)
    build_s = time.perf_counter() - start

    start = time.perf_counter()
    history = load_history(Source(rpc_url, built.protocol, built.block))
    read_s = time.perf_counter() - start
    report = audit_history(history, store, test_data=load_test_data(task.dataset))
    render_html(report)
    to_json(report)
    audit_s = time.perf_counter() - start

    figures: dict[str, object] = {
        "rounds": args.rounds,
        "clients": args.clients,
        "miners": args.miners,
        "dataset": args.dataset,
        "updates": sum(len(r.submissions) for r in history.rounds),
        "verified": report.verified,
        "build_s": round(build_s, 2),
        "read_history_s": round(read_s, 2),
        "audit_s": round(audit_s, 2),
    }
    if not args.no_cli:
        cli = [
            sys.executable,
            "-m",
            "flchain",
            "audit",
            "--rpc",
            rpc_url,
            "--address",
            built.protocol,
            "--from-block",
            str(built.block),
            "--store",
            str(root / "store"),
            "--json",
            "--html",
            str(root / "report.html"),
        ]
        start = time.perf_counter()
        done = subprocess.run(cli, capture_output=True, text=True, check=False)
        figures["cli_s"] = round(time.perf_counter() - start, 2)
        figures["cli_exit"] = done.returncode
    return figures


if __name__ == "__main__":
    main()
