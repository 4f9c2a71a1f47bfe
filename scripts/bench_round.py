"""Benchmark: one task with ``flchain run`` (processes, chain, storage) and ``flchain baseline``.

MNIST-1D with its CNN, 10 clients, 3 miners, 10 rounds, IID, Adam, local epochs
chosen so that local training takes several seconds per round (20: about 3-4 s
for the slowest client on two cores), so that the ratio measures the protocol
rather than process start-up. Prints:

* ``flchain_wall_s``: the rounds of ``flchain run`` (round 0 opening to the
  last round certified), ``flchain_total_s`` with start-up, ``startup_s``
  (until every process is registered);
* ``baseline_wall_s``: ``flchain baseline``'s own ``wall_s`` for the same task;
* ``ratio`` = flchain_wall_s / baseline_wall_s;
* ``overhead_per_round_s``: mean over rounds of (round time − the training it
  contains, i.e. the slowest client's training time that round);
* both final accuracies and the mean per-phase seconds (``phases``).

Usage: ``python scripts/bench_round.py [--json] [--rounds 10] [--local-epochs 20]``.
The run starts and stops its own local chain (Anvil) in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-c", "from flchain.cli import main; main()"]


def task_args(a: argparse.Namespace) -> list[str]:
    return [
        "--dataset", "mnist1d", "--arch", "mnist1d-cnn", "--clients", str(a.clients),
        "--rounds", str(a.rounds), "--partition", "iid", "--seed", str(a.seed),
        "--local-epochs", str(a.local_epochs), "--batch-size", "16",
        "--lr", "0.01", "--optimizer", "adam",
    ]  # fmt: skip


def run_flchain(a: argparse.Namespace, tmp: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    out = tmp / "run"
    cmd = [*CLI, "run", *task_args(a), "--miners", str(a.miners), "--out", str(out)]
    cmd += ["--home", str(tmp / "home"), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"flchain run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    summary = json.loads(done.stdout)
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return summary, [json.loads(line) for line in lines]


def run_baseline(a: argparse.Namespace) -> dict[str, Any]:
    cmd = [*CLI, "baseline", *task_args(a), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"flchain baseline failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def figures(
    summary: dict[str, Any], metrics: list[dict[str, Any]], baseline: dict[str, Any]
) -> dict[str, Any]:
    rounds_s = sum(m["round_s"] for m in metrics)
    phases = sorted(k for k in metrics[0] if k.endswith("_s") and k != "round_s")
    overhead = [m["round_s"] - m["train_s"] for m in metrics]
    return {
        "flchain_wall_s": round(rounds_s, 3),
        "flchain_total_s": summary["wall_s"],
        "startup_s": summary["startup_s"],
        "baseline_wall_s": round(baseline["wall_s"], 3),
        "ratio": round(rounds_s / baseline["wall_s"], 3),
        "overhead_per_round_s": round(statistics.mean(overhead), 3),
        "flchain_accuracy": round(summary["final_accuracy"], 4),
        "baseline_accuracy": round(baseline["accuracy"], 4),
        "rounds": len(metrics),
        "round_s": [m["round_s"] for m in metrics],
        "phases": {p: round(statistics.mean(m[p] for m in metrics), 4) for p in phases},
        "gas_per_round": round(statistics.mean(m["gas_used"] for m in metrics)),
        "rejected": sum(m["rejected"] for m in metrics),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--miners", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--local-epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-round-") as tmp:
        summary, metrics = run_flchain(args, Path(tmp))
    baseline = run_baseline(args)
    result = figures(summary, metrics, baseline)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
