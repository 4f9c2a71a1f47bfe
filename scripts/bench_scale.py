"""Benchmark: a task at scale with ``flchain run``, against ``flchain baseline`` on its split.

MNIST-1D generated locally with enough sequences that every client has at
least :data:`MIN_PER_CLIENT` training examples (``mnist1d-<N>``), its CNN,
5 miners, a committee of 5, every client in every round unless
``--clients-per-round K`` has the contract draw K of them each round, clients in
pools (one per core by default). Prints one JSON object per run:

* ``clients``, ``clients_per_round`` (0: all), ``rounds``, ``dataset``;
* ``wall_s`` (the whole ``flchain run``, start-up included), ``startup_s``
  (until every party is registered), ``per_round_s`` (mean round time);
* ``peak_rss_mb``: the peak over the run of the resident memory summed over
  the whole process tree (chain node, pools, miners), sampled every 0.5 s;
* ``gas_per_update``: all gas the parties spent over the rounds divided by the
  updates submitted; ``max_tx_gas``: the largest single transaction (a finalize page,
  not a party's pages summed);
* ``accuracy`` and ``baseline_accuracy`` (``flchain baseline`` on the same split);
* ``audit_s`` and ``audit_verified``: ``flchain audit --run --json`` of the run, in a
  fresh process, while its node is still up (``--no-audit`` skips it).

    .venv/bin/python scripts/bench_scale.py                    # 1000 clients, 5 rounds
    .venv/bin/python scripts/bench_scale.py --clients 10 100 300 1000   # the curve
    .venv/bin/python scripts/bench_scale.py --clients-per-round 100      # 100 drawn a round

With several ``--clients`` it prints ``{"curve": [...]}``, one object per size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flchain.chain import testnet
from flchain.chain.node import NodeConfig, free_port
from flchain.party.roundlog import read_events
from flchain.task.accounts import task_accounts

CLI = [sys.executable, "-c", "from flchain.cli import main; main()"]
MIN_PER_CLIENT = 24
"""Training examples per client at least (the issue asks for 20)."""


def dataset_for(clients: int, miners: int) -> str:
    """``mnist1d-<N>``, N a multiple of 1,000 such that each party's share of the 80 %
    training split holds at least :data:`MIN_PER_CLIENT` examples."""
    needed = MIN_PER_CLIENT * (clients + miners) / 0.8
    return f"mnist1d-{max(5, math.ceil(needed / 1000)) * 1000}"


def task_args(a: argparse.Namespace, clients: int) -> list[str]:
    return [
        "--dataset", dataset_for(clients, a.miners), "--arch", "mnist1d-cnn",
        "--clients", str(clients), "--rounds", str(a.rounds), "--partition", "iid",
        "--seed", str(a.seed), "--local-epochs", str(a.local_epochs), "--batch-size", "16",
        "--lr", "0.01", "--optimizer", "adam",
    ]  # fmt: skip


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, in MiB (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            statm = Path(entry.path, "statm").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        pid = int(entry.name)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(statm.split()[1]) * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 2**20


class PeakSampler:
    """The peak of :func:`tree_rss_mb` of a process, sampled in a thread."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        self.pid, self.every_s, self.peak = pid, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, tree_rss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_flchain(a: argparse.Namespace, clients: int, tmp: Path) -> dict[str, Any]:
    """The run on a testnet started here (so that it outlives the run), then its audit."""
    home = tmp / "home"
    accounts = max(task_accounts(clients, a.miners)) + 1
    config = NodeConfig(accounts=accounts).with_port(free_port())  # as `flchain run` starts one
    testnet.up(testnet.UpOptions(config=config, home=home, deployments=tmp / "dep", deploy=False))
    try:
        figures = _run(a, clients, tmp / "run", home)
        return {**figures, **(_audit(tmp / "run", home) if a.audit else {})}
    finally:
        testnet.down(home)


def _audit(out: Path, home: Path) -> dict[str, Any]:
    cmd = [*CLI, "audit", "--testnet", str(home / testnet.TESTNET_FILE), "--run", str(out)]
    start = time.monotonic()
    done = subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=False)
    elapsed = round(time.monotonic() - start, 1)
    if done.returncode not in (0, 1):
        raise SystemExit(f"flchain audit failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    return {"audit_s": elapsed, "audit_verified": bool(report["verified"])}


def _run(a: argparse.Namespace, clients: int, out: Path, home: Path) -> dict[str, Any]:
    cmd = [*CLI, "run", *task_args(a, clients), "--miners", str(a.miners)]
    cmd += ["--committee", str(a.committee), "--out", str(out), "--home", str(home)]
    cmd += ["--json"] + (["--client-procs", str(a.client_procs)] if a.client_procs else [])
    if a.clients_per_round:
        cmd += ["--clients-per-round", str(min(a.clients_per_round, clients))]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = PeakSampler(proc.pid)
    stdout, stderr = proc.communicate()
    peak = sampler.stop()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"flchain run failed ({proc.returncode}):\n{stderr[-3000:]}")
    summary = json.loads(stdout)
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    gas = [  # a finalization sent as pages logs its largest page apart from its total
        int(e.get("largest_gas", e["gas"]))
        for path in sorted((out / "logs").glob("*.jsonl"))
        for e in read_events(path)
        if "gas" in e
    ]
    submitted = sum(m["submitted"] for m in metrics)
    return {
        "wall_s": round(wall, 1),
        "startup_s": summary["startup_s"],
        "per_round_s": round(statistics.mean(m["round_s"] for m in metrics), 2),
        "peak_rss_mb": round(peak),
        "gas_per_update": round(sum(m["gas_used"] for m in metrics) / max(1, submitted)),
        "max_tx_gas": max(gas, default=0),
        "submitted": submitted,
        "accepted": sum(m["accepted"] for m in metrics),
        "accuracy": round(summary["final_accuracy"], 4),
    }


def run_baseline(a: argparse.Namespace, clients: int) -> float:
    cmd = [*CLI, "baseline", *task_args(a, clients), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"flchain baseline failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return round(float(json.loads(done.stdout)["accuracy"]), 4)


def measure(a: argparse.Namespace, clients: int) -> dict[str, Any]:
    print(f"bench_scale: {clients} clients x {a.rounds} rounds ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        figures = run_flchain(a, clients, Path(tmp))
    head = {"clients": clients, "clients_per_round": min(a.clients_per_round, clients)}
    head |= {"rounds": a.rounds, "dataset": dataset_for(clients, a.miners)}
    return {**head, **figures, "baseline_accuracy": run_baseline(a, clients)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON only (the default)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1000])
    parser.add_argument(
        "--clients-per-round", type=int, default=0, help="clients drawn each round (0: all)"
    )
    parser.add_argument("--miners", type=int, default=5)
    parser.add_argument("--committee", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--local-epochs", type=int, default=1)
    parser.add_argument("--client-procs", type=int, default=0, help="pools (0: flchain's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-audit", dest="audit", action="store_false", help="skip the audit")
    args = parser.parse_args()
    runs = [measure(args, n) for n in args.clients]
    print(json.dumps(runs[0] if len(runs) == 1 else {"curve": runs}))


if __name__ == "__main__":
    main()
