"""Benchmark: ``flchain demo`` end to end on a chosen local chain, wall and CPU time.

Runs ``flchain demo --backend B`` (5 clients, one a free-rider, 3 miners, 5
rounds on digits; node, task and parties started and stopped by the demo) in a
temporary directory and prints:

* ``wall_s``: the whole command, start-up and tear-down included;
* ``cpu_s``: user + system CPU seconds of the command and every process it
  waited for (node and parties), less sensitive to other load than ``wall_s``;
* ``startup_s`` (until every party registered) and ``rounds_s`` from the
  run's ``summary.json``, and ``round_s``: each round's seconds;
* what the demo must still show: ``rounds``, ``accepted``/``rejected`` per
  round, ``free_rider_rejected`` (rounds in which it was), ``final_accuracy``,
  ``aggregate_mismatches`` (0: every party's aggregate matched the certified one).

Usage: ``python scripts/bench_demo.py [--backend embedded] [--repeat 1] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-c", "from flchain.cli import main; main()"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(backend: str) -> dict[str, Any]:
    """One ``flchain demo`` on ``backend``: times and what it showed."""
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        out = Path(tmp) / "run"
        cpu, start = _cpu(), time.monotonic()
        done = subprocess.run(
            [*CLI, "demo", "--backend", backend, "--out", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        wall, cpu = time.monotonic() - start, _cpu() - cpu
        if done.returncode != 0:
            tail = (done.stdout + done.stderr)[-3000:]
            raise SystemExit(f"flchain demo failed ({done.returncode}):\n{tail}")
        summary = json.loads((out / "summary.json").read_text())
        reports = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {
        "backend": backend,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "startup_s": summary["startup_s"],
        "rounds_s": round(summary["wall_s"] - summary["startup_s"], 1),
        "round_s": [r["round_s"] for r in reports],
        "rounds": summary["rounds"],
        "accepted": [r["accepted"] for r in reports],
        "rejected": [r["rejected"] for r in reports],
        "free_rider_rejected": summary["rejected_by_behaviour"].get("free-rider", 0),
        "final_accuracy": round(summary["final_accuracy"], 4),
        "aggregate_mismatches": len(summary["aggregate_mismatches"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="embedded", choices=["anvil", "ganache", "embedded"])
    parser.add_argument("--repeat", type=int, default=1, help="runs; all are reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    runs = [run(args.backend) for _ in range(max(args.repeat, 1))]
    result = runs[0] if len(runs) == 1 else {"backend": args.backend, "runs": runs}
    if args.json:
        print(json.dumps(result))
        return
    for item in runs:
        for key, value in item.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
