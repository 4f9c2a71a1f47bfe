"""Benchmark: the same small task through the process engine and the Ray engine.

Runs ``flchain run`` (digits, 6 clients in 2 pools, 3 miners, 2 rounds; its own
node, started and stopped by the run) once per engine and repeat, alternating
the engines so that both see the same load, and prints per run:

* ``wall_s``: the whole command, interpreter start and tear-down included;
* ``run_s`` and ``startup_s`` from the run's ``summary.json`` (start-up: until
  every party registered), ``rounds_s`` = their difference (the rounds and the
  run's own end: the final evaluation, the summary), ``round_s`` each round's;
* ``ray_s``: the Ray engine's own start-up (``ray.init`` of a local Ray with 2
  CPUs, no dashboard), part of ``startup_s``;
* ``load``: the machine's one-minute load average before the run;
* ``accepted`` per round and ``final_accuracy``, which must be the same for both.

``--ray-miners`` places the miners on Ray too. Usage:
``python scripts/bench_engine.py [--repeat 3] [--ray-miners] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-c", "from flchain.cli import main; main()"]
TASK = ["--clients", "6", "--client-procs", "2", "--miners", "3", "--rounds", "2"]


def run(engine: str, ray_miners: bool) -> dict[str, Any]:
    """One run of the task on ``engine``: its times and what it reached."""
    extra = ["--engine", engine] + (["--ray-miners"] if ray_miners and engine == "ray" else [])
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        out, home = Path(tmp) / "run", Path(tmp) / "home"
        load = os.getloadavg()[0]
        start = time.monotonic()
        done = subprocess.run(
            [*CLI, "run", *TASK, *extra, "--home", str(home), "--out", str(out), "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - start
        if done.returncode != 0:
            tail = (done.stdout + done.stderr)[-3000:]
            raise SystemExit(f"flchain run --engine {engine} failed ({done.returncode}):\n{tail}")
        summary = json.loads(done.stdout)
        reports = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {
        "engine": engine,
        "wall_s": round(wall, 1),
        "run_s": summary["wall_s"],
        "startup_s": summary["startup_s"],
        "rounds_s": round(summary["wall_s"] - summary["startup_s"], 1),
        "round_s": [r["round_s"] for r in reports],
        "ray_s": summary["engine"].get("startup_s"),
        "load": round(load, 1),
        "accepted": [r["accepted"] for r in reports],
        "final_accuracy": round(summary["final_accuracy"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine; all reported")
    parser.add_argument("--ray-miners", action="store_true", help="the miners on Ray too")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    runs = [
        run(engine, args.ray_miners)
        for _ in range(max(args.repeat, 1))
        for engine in ("process", "ray")
    ]
    if args.json:
        print(json.dumps({"ray_miners": args.ray_miners, "runs": runs}))
        return
    for item in runs:
        print("  ".join(f"{key} {value}" for key, value in item.items()))


if __name__ == "__main__":
    main()
