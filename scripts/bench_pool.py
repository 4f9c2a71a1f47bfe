"""Memory per client in a client pool: the RSS a pool grows by for each client it hosts.

    .venv/bin/python scripts/bench_pool.py                       # 200 clients, 2 pools, 2 rounds
    .venv/bin/python scripts/bench_pool.py --clients 20 --procs 2 --rounds 1
    .venv/bin/python scripts/bench_pool.py --run-dir runs/NAME   # a run already made

Each pooled client logs the pool's resident memory when it has joined
(``started``: ``pool_rss_mb``) and the pool's peak when all are done
(``pool_done``: ``pool_peak_rss_mb``). Per pool this prints the RSS with its
first client joined, with all joined, the peak over the run, and per client
beyond the first: ``join_mb_per_client`` (accounts, connections, model copy,
logs) and ``peak_mb_per_client`` (the same plus everything a round holds),
as one JSON object. Goal: at most 5 MB per client beyond its data and model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from flchain.party.roundlog import read_events


def pool_memory(run_dir: Path) -> dict[str, Any]:
    """Per pool (by process id) the memory figures of the module docstring."""
    joined: dict[int, list[tuple[float, float]]] = {}
    peaks: dict[int, float] = {}
    for path in sorted((run_dir / "logs").glob("client-*.jsonl")):
        for event in read_events(path):
            if "pool" not in event:
                continue
            pool = int(event["pool"])
            if event["event"] == "started":
                joined.setdefault(pool, []).append((event["t"], float(event["pool_rss_mb"])))
            elif event["event"] == "pool_done":
                peaks[pool] = float(event["pool_peak_rss_mb"])
    pools = []
    for pool, rows in sorted(joined.items()):
        rss = [r for _, r in sorted(rows)]
        extra = max(1, len(rss) - 1)
        peak = peaks.get(pool)
        pools.append(
            {
                "clients": len(rss),
                "first_rss_mb": rss[0],
                "joined_rss_mb": rss[-1],
                "peak_rss_mb": peak,
                "join_mb_per_client": round((rss[-1] - rss[0]) / extra, 3),
                "peak_mb_per_client": None if peak is None else round((peak - rss[0]) / extra, 3),
            }
        )
    return {"run_dir": str(run_dir), "pools": pools}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--procs", type=int, default=2, help="client processes (pools)")
    parser.add_argument("--miners", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--run-dir", type=Path, help="analyse this run instead of making one")
    args = parser.parse_args()
    run_dir = args.run_dir
    if run_dir is None:
        work = Path(tempfile.mkdtemp(prefix="bench-pool-"))
        run_dir = work / "run"
        cmd = [sys.executable, "-c", "from flchain.cli import main; main()", "run"]
        cmd += ["--clients", str(args.clients), "--miners", str(args.miners)]
        cmd += ["--rounds", str(args.rounds), "--client-procs", str(args.procs)]
        cmd += ["--home", str(work / "home"), "--out", str(run_dir), "--json"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(json.dumps(pool_memory(run_dir)))


if __name__ == "__main__":
    main()
