"""Time and memory to aggregate N client updates of D parameters, against Flower's aggregate.

    .venv/bin/python scripts/bench_aggregate.py            # 100 updates × 1,000,000 parameters
    .venv/bin/python scripts/bench_aggregate.py --json
    .venv/bin/python scripts/bench_aggregate.py --updates 20 --params 100000 --repeat 3
    .venv/bin/python scripts/bench_aggregate.py --flower all   # Flower's median, Krum, Bulyan too

Every (implementation, rule) pair runs in a fresh process, so that one
measurement's memory does not hide another's. In it, ``seconds`` is the best of
``--repeat`` calls (FLchain's ``Strategy.aggregate``: validation, canonical
ordering, float64 accumulation and the final float32 rounding included;
Flower's ``flwr.server.strategy.aggregate`` functions on the same arrays);
``cpu_seconds`` the best CPU time of those calls (steadier than wall time on a
busy machine); ``peak_mb`` is the most memory the call allocated beyond its inputs
(tracemalloc, one more call); ``max_rss_mb`` is the process' peak resident
memory, inputs and interpreter included. ``time_ratio``, ``cpu_ratio`` and
``memory_ratio`` are FLchain's figure over Flower's (below 1: FLchain is faster or smaller).
Goals on a 2-core machine: FedAvg within 1.2× of Flower's time and memory;
FedMedian, Krum and Bulyan faster than Flower's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

RULES = ("fedavg", "fedmedian", "krum", "bulyan")
IMPLS = ("flchain", "flower")


def make_updates(n: int, d: int, seed: int) -> tuple[dict[str, np.ndarray], list[tuple[dict, int]]]:
    """A global model of two tensors and ``n`` noisy client copies of it, with sample counts."""
    rng = np.random.default_rng(seed)
    split = d // 2
    g = {
        "layer1.weight": rng.standard_normal(split, dtype=np.float32),
        "layer2.weight": rng.standard_normal(d - split, dtype=np.float32),
    }
    updates = []
    for _ in range(n):
        w = {
            k: v + np.float32(0.01) * rng.standard_normal(v.shape, dtype=np.float32)
            for k, v in g.items()
        }
        updates.append((w, int(rng.integers(10, 100))))
    return g, updates


def _flchain_call(rule: str, g: dict, updates: list[tuple[dict, int]]) -> Callable[[], object]:
    from flchain.learning.strategies import ClientUpdate, strategy_from_name

    ups = [ClientUpdate(f"update-{i:04d}", w, num_samples=s) for i, (w, s) in enumerate(updates)]
    strategy = strategy_from_name(rule)
    return lambda: strategy.aggregate(g, ups)


def _flower_call(rule: str, g: dict, updates: list[tuple[dict, int]]) -> Callable[[], object]:
    from flwr.server.strategy import aggregate as fl

    results = [([w[k] for k in sorted(w)], s) for w, s in updates]
    n = len(results)
    if rule == "fedavg":
        return lambda: fl.aggregate(results)
    if rule == "fedmedian":
        return lambda: fl.aggregate_median(results)
    if rule == "krum":
        return lambda: fl.aggregate_krum(results, num_malicious=(n - 3) // 2, to_keep=0)
    f = (n - 3) // 4
    # Flower's Bulyan pops from the list it is given: hand it a fresh one each call.
    return lambda: fl.aggregate_bulyan(list(results), f, fl.aggregate_krum, to_keep=0)


def measure_one(impl: str, rule: str, n: int, d: int, seed: int, repeat: int) -> dict[str, float]:
    """Time and memory of one implementation of one rule, in this process."""
    g, updates = make_updates(n, d, seed)
    call = (_flchain_call if impl == "flchain" else _flower_call)(rule, g, updates)
    best = best_cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    call()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {
        "seconds": round(best, 3),
        "cpu_seconds": round(best_cpu, 3),
        "peak_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def measure(impl: str, rule: str, args: argparse.Namespace) -> dict[str, float]:
    """:func:`measure_one` in a fresh interpreter."""
    cmd = [
        sys.executable,
        __file__,
        "--one",
        f"{impl}:{rule}",
        *("--updates", str(args.updates), "--params", str(args.params)),
        *("--seed", str(args.seed), "--repeat", str(args.repeat)),
    ]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--params", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", default=",".join(RULES), help="comma-separated rules")
    parser.add_argument(
        "--flower",
        choices=("fedavg", "all", "none"),
        default="fedavg",
        help="which rules to run Flower's implementation of too (its Bulyan is slow)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        impl, rule = args.one.split(":")
        print(
            json.dumps(measure_one(impl, rule, args.updates, args.params, args.seed, args.repeat))
        )
        return

    rules = [r for r in args.rules.split(",") if r]
    out: dict[str, object] = {
        "updates": args.updates,
        "params": args.params,
        "input_mb": round(args.updates * args.params * 4 / 2**20, 1),
    }
    for rule in rules:
        row: dict[str, object] = {"flchain": measure("flchain", rule, args)}
        if args.flower == "all" or (args.flower == "fedavg" and rule == "fedavg"):
            ours, theirs = row["flchain"], measure("flower", rule, args)
            row["flower"] = theirs
            assert isinstance(ours, dict)
            row["time_ratio"] = round(ours["seconds"] / max(theirs["seconds"], 1e-9), 2)
            row["cpu_ratio"] = round(ours["cpu_seconds"] / max(theirs["cpu_seconds"], 1e-9), 2)
            row["memory_ratio"] = round(ours["peak_mb"] / max(theirs["peak_mb"], 1e-9), 2)
            row["rss_ratio"] = round(ours["max_rss_mb"] / max(theirs["max_rss_mb"], 1e-9), 2)
        out[rule] = row
    if args.json:
        print(json.dumps(out))
        return
    print(f"{args.updates} updates × {args.params:,} parameters ({out['input_mb']} MB of input)")
    for rule in rules:
        row = out[rule]
        assert isinstance(row, dict)
        for impl in IMPLS:
            if impl in row:
                m = row[impl]
                print(
                    f"  {rule:<10} {impl:<8} {m['seconds']:8.3f} s  cpu {m['cpu_seconds']:8.3f} s  "
                    f"peak {m['peak_mb']:8.1f} MB  max RSS {m['max_rss_mb']:8.1f} MB"
                )
        if "time_ratio" in row:
            print(
                f"  {rule:<10} ratio    time ×{row['time_ratio']}  cpu ×{row['cpu_ratio']}  "
                f"memory ×{row['memory_ratio']}"
            )


if __name__ == "__main__":
    main()
