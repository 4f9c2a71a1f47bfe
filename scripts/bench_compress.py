"""Benchmark: what compression saves in the run path, and what it costs in accuracy.

Starts a local node, then for each setting runs ``flchain run`` on digits
(5 clients, 3 miners, 5 rounds by default; a new task each time) and
``flchain audit --run`` on it, and prints per setting:

* ``per_update`` and ``per_round``: mean bytes of an update file and of a
  round's updates, as the store holds them (``bytes_pinned`` in the run's
  ``summary.json``), and ``ratio``: per update against the uncompressed run's;
* ``accepted`` per round, ``final_accuracy`` (the certified model on the test set);
* ``audit_verified``: the audit re-fetched, decompressed, re-scored and
  re-aggregated every round and found no discrepancy.

Usage: ``python scripts/bench_compress.py [--settings none,topk:0.1,q8] [--rounds 5] [--json]
[--keep DIR]`` (``--keep``: leave each run's directory under DIR, logs and store included).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "flchain"]


def _flchain(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise SystemExit(f"flchain {args[0]} failed ({done.returncode}):\n{tail}")
    return done


def run(setting: str, home: Path, out: Path, sizes: tuple[int, int, int]) -> dict[str, Any]:
    """One task with ``setting`` on the node at ``home``, then its audit."""
    clients, miners, rounds = sizes
    _flchain(
        "run",
        *("--clients", str(clients), "--miners", str(miners), "--rounds", str(rounds)),
        *("--compress", setting, "--home", str(home), "--out", str(out), "--json"),
    )
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    audit = json.loads(_flchain("audit", "--run", str(out), "--json").stdout)
    spent = summary["bytes_pinned"]
    return {
        "compression": setting,
        "per_update": spent["per_update"],
        "per_round": spent["per_round"],
        "total": spent["total"],
        "accepted": [r["accepted"] for r in rows],
        "final_accuracy": round(summary["final_accuracy"], 4),
        "aggregate_mismatches": len(summary["aggregate_mismatches"]),
        "audit_verified": audit["verified"] is True and audit["discrepancies"] == [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="none,topk:0.1,q8")
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--miners", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", type=Path, help="leave the run directories here")
    args = parser.parse_args()
    sizes = (args.clients, args.miners, args.rounds)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-compress-") as tmp:
        home = Path(tmp) / "home"
        with socket.socket() as probe:  # a free port, so other nodes on this machine are left be
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        up = ("--home", str(home), "--port", str(port), "--deployments", f"{tmp}/deployments")
        _flchain("testnet", "up", "--no-deploy", *up)
        try:
            for i, setting in enumerate(args.settings.split(",")):
                where = args.keep or Path(tmp)
                results.append(run(setting, home, where / f"run-{i}", sizes))
        finally:
            _flchain("testnet", "down", "--home", str(home))
    plain = next((r["per_update"] for r in results if r["compression"] == "none"), None)
    for r in results:
        r["ratio"] = round(r["per_update"] / plain, 4) if plain else None
    if args.json:
        print(json.dumps({"clients": args.clients, "miners": args.miners, "runs": results}))
        return
    for r in results:
        print(
            f"{r['compression']:>10}: {r['per_update']:>7} B/update, {r['per_round']:>8} B/round "
            f"(x{r['ratio']}), accepted {r['accepted']}, accuracy {r['final_accuracy']}, "
            f"audit {'verified' if r['audit_verified'] else 'NOT verified'}"
        )


if __name__ == "__main__":
    main()
