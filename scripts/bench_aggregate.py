"""Seconds to aggregate N client updates of D parameters with FedAvg, FedMedian, Krum, Bulyan.

    .venv/bin/python scripts/bench_aggregate.py            # 100 updates × 1,000,000 parameters
    .venv/bin/python scripts/bench_aggregate.py --json
    .venv/bin/python scripts/bench_aggregate.py --updates 20 --params 100000 --repeat 3

Each figure is the best of ``--repeat`` runs of ``Strategy.aggregate`` (validation,
canonical ordering, float64 accumulation and the final float32 rounding included).
Peak resident memory of the whole process is reported too. Goals on a 2-core
machine: FedAvg ≤ 1 s, FedMedian ≤ 5 s, Krum ≤ 10 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from flchain.learning.strategies import ClientUpdate, strategy_from_name

STRATEGIES = ("fedavg", "fedmedian", "krum", "bulyan")


def make_updates(n: int, d: int, seed: int) -> tuple[dict[str, np.ndarray], list[ClientUpdate]]:
    """A global model of two tensors and ``n`` noisy client copies of it."""
    rng = np.random.default_rng(seed)
    split = d // 2
    g = {
        "layer1.weight": rng.standard_normal(split, dtype=np.float32),
        "layer2.weight": rng.standard_normal(d - split, dtype=np.float32),
    }
    updates = []
    for i in range(n):
        w = {
            k: v + np.float32(0.01) * rng.standard_normal(v.shape, dtype=np.float32)
            for k, v in g.items()
        }
        updates.append(ClientUpdate(f"update-{i:04d}", w, num_samples=int(rng.integers(10, 100))))
    return g, updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--params", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    g, updates = make_updates(args.updates, args.params, args.seed)
    out: dict[str, float | int] = {"updates": args.updates, "params": args.params}
    for name in STRATEGIES:
        strategy = strategy_from_name(name)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            strategy.aggregate(g, updates)
            best = min(best, time.perf_counter() - start)
        out[name] = round(best, 3)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{args.updates} updates × {args.params:,} parameters")
    for name in STRATEGIES:
        print(f"  {name:<10} {out[name]:8.3f} s")
    print(f"  peak RSS   {out['peak_rss_mb']:8.1f} MB")


if __name__ == "__main__":
    main()
