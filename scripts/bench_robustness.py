"""Proof-of-quality against the attack lab, through the real process path.

Each cell runs ``flchain run`` (a real chain, real client and miner processes)
with one attack, and reads what happened from the run directory: final
accuracy against the clean run's, the share of malicious and of honest updates
rejected (and the share of honest updates the clean run rejected), the
malicious clients' share of client rewards, and for miner
attacks whether any committee decision differed from the honest majority's.
A lying miner can only push a bad update in where there is one, so every
miner cell also has malicious clients (``--miner-clients``, by default 30 %
label flippers; ``none`` for a clean federation) and reports their rejection.
Beside each client cell, the same attack against plain ``flchain baseline``
with FedAvg, MultiKrum and FLTrust, so the table shows what proof-of-quality
adds over robust aggregation alone.

The attack parameters are the registry's defaults, fixed before the rules were
tuned. ``--quick`` runs the documented subset: label flip, backdoor, sample
inflation, ALIE at 30 % and two lying miners, on digits; ``--only`` keeps the
named attacks of the selection (the clean run always runs).

    python scripts/bench_robustness.py --quick --json
    python scripts/bench_robustness.py --quick --only backdoor,label-flip --no-baselines
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flchain.exceptions import ConfigError
from flchain.learning.adversary import parse_malicious
from flchain.learning.attacks import ATTACKS

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ATTACKS = tuple(ATTACKS)
"""Every client attack of the lab's one registry."""
HARMLESS = ("shrink",)
MINER_ATTACKS = ("random-scores", "inverted-scores", "always-accept", "lazy")
QUICK_CLIENT = ("label-flip", "backdoor", "inflate", "alie")
QUICK_MINER = (("inverted-scores", 2),)
BASELINES = ("fedavg", "multikrum", "fltrust")


def flchain(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "flchain", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def task_args(dataset: str, args: argparse.Namespace) -> list[str]:
    """The options ``flchain run`` and ``flchain baseline`` share, for one dataset."""
    return [
        "--dataset", dataset,
        "--partition", args.partition,
        "--clients", str(args.clients),
        "--rounds", str(args.rounds),
        "--seed", str(args.seed),
        "--json",
    ]  # fmt: skip


def run_cell(
    dataset: str, args: argparse.Namespace, work: Path, name: str, extra: list[str]
) -> dict[str, Any]:
    """One ``flchain run``; its summary."""
    out = work / name
    proc = flchain(
        "run", *task_args(dataset, args),
        "--miners", str(args.miners),
        "--committee", str(args.miners),
        "--out", str(out),
        "--home", str(work / "home"),
        *extra,
    )  # fmt: skip
    if proc.returncode not in (0, 1):
        raise SystemExit(f"run {name} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def client_cell(summary: dict[str, Any], attack: str) -> dict[str, Any]:
    """Rejection shares and reward share of one client-attack run."""
    rejected = summary.get("rejected_by_behaviour", {})
    accepted = summary.get("accepted_by_behaviour", {})

    def share(kind: str) -> float | None:
        total = rejected.get(kind, 0) + accepted.get(kind, 0)
        return round(rejected.get(kind, 0) / total, 4) if total else None

    clients = [p for n, p in summary["parties"].items() if n.startswith("client")]
    rewards = summary.get("rewards", {})
    total = sum(int(rewards.get(p["address"], 0)) for p in clients)
    bad = sum(int(rewards.get(p["address"], 0)) for p in clients if p["behaviour"] == attack)
    return {
        "malicious_rejected": share(attack),
        "honest_rejected": share("honest"),
        "malicious_reward_share": round(bad / total, 4) if total else 0.0,
    }


def liars_cell(summary: dict[str, Any]) -> dict[str, Any]:
    """The lying miners' reputation and rewards against the honest miners'."""
    liars = set(summary.get("miner_behaviours", {}))
    miners = {n: p["address"] for n, p in summary["parties"].items() if n.startswith("miner")}
    rep, pay = summary["reputation"], summary["rewards"]
    honest = [a for n, a in miners.items() if n not in liars]
    lying = [a for n, a in miners.items() if n in liars]
    return {
        "liar_reputation": [rep[a] for a in lying],
        "honest_miner_reputation": [rep[a] for a in honest],
        "liar_rewards": [round(pay[a], 2) for a in lying],
        "honest_miner_rewards": [round(pay[a], 2) for a in honest],
    }


def baseline_accuracy(dataset: str, args: argparse.Namespace, strategy: str, mal: str) -> float:
    proc = flchain(
        "baseline", *task_args(dataset, args), "--strategy", strategy, "--malicious", mal
    )
    if proc.returncode != 0:
        return float("nan")
    return float(json.loads(proc.stdout)["accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the documented subset")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--datasets", default="digits,mnist1d")
    parser.add_argument("--partition", default="dirichlet:0.5")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--miners", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument(
        "--miner-clients",
        default="label-flip:0.3",
        help="the client attack beside every lying-miner cell ('none': clean clients)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated attacks to run (the clean run always runs)"
    )
    args = parser.parse_args()
    datasets = ["digits"] if args.quick else args.datasets.split(",")
    client_attacks = [(a, 0.3) for a in QUICK_CLIENT] if args.quick else [
        (a, f) for a in CLIENT_ATTACKS for f in (0.1, 0.3)
    ]  # fmt: skip
    miner_attacks = list(QUICK_MINER) if args.quick else [
        (a, m) for a in MINER_ATTACKS for m in (1, 2)
    ]  # fmt: skip
    if args.only:
        only = set(args.only.split(","))
        unknown = only - set(CLIENT_ATTACKS) - set(MINER_ATTACKS)
        if unknown:
            parser.error(f"--only: unknown attack(s) {', '.join(sorted(unknown))}")
        client_attacks = [(a, f) for a, f in client_attacks if a in only]
        miner_attacks = [(a, m) for a, m in miner_attacks if a in only]
    beside = [] if args.miner_clients == "none" else ["--malicious", args.miner_clients]
    try:  # checked now, not after hours of client cells
        besides = parse_malicious(args.miner_clients, args.clients) if beside else {}
    except ConfigError as exc:
        parser.error(f"--miner-clients: {exc}")
    if len(besides) > 1:
        parser.error("--miner-clients: one client attack (NAME:AMOUNT), or 'none'")
    client_attack = next(iter(besides), "")
    cells: list[dict[str, Any]] = []
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="flchain-robustness-") as tmp:
        work = Path(tmp)
        for dataset in datasets:
            clean = run_cell(dataset, args, work, f"{dataset}-clean", [])
            clean_acc = float(clean["final_accuracy"])
            clean_honest = client_cell(clean, "honest")["honest_rejected"]
            for attack, fraction in client_attacks:
                mal = f"{attack}:{fraction}"
                s = run_cell(
                    dataset, args, work, f"{dataset}-{attack}-{fraction}", ["--malicious", mal]
                )
                cell = {
                    "dataset": dataset,
                    "attack": attack,
                    "fraction": fraction,
                    "clean_attack_success_rate": clean.get("attack_success_rate"),
                    "harmful": attack not in HARMLESS,
                    "accuracy": s["final_accuracy"],
                    "clean_accuracy": clean_acc,
                    "clean_honest_rejected": clean_honest,
                    **client_cell(s, attack),
                }
                if "attack_success_rate" in s:
                    cell["attack_success_rate"] = s["attack_success_rate"]
                if not args.no_baselines:
                    cell["baselines"] = {
                        b: baseline_accuracy(dataset, args, b, mal) for b in BASELINES
                    }
                cells.append(cell)
                print(json.dumps(cell), file=sys.stderr, flush=True)
            for attack, count in miner_attacks:
                s = run_cell(
                    dataset, args, work, f"{dataset}-{attack}-{count}",
                    ["--malicious-miners", f"{attack}:{count}", *beside],
                )  # fmt: skip
                cell = {
                    "dataset": dataset,
                    "attack": attack,
                    "miners": count,
                    "client_attack": args.miner_clients,
                    "accuracy": s["final_accuracy"],
                    "clean_accuracy": clean_acc,
                    "decisions_changed": s.get("decisions_changed"),
                    **liars_cell(s),
                }
                if beside:
                    cell.update(client_cell(s, client_attack))
                cells.append(cell)
                print(json.dumps(cell), file=sys.stderr, flush=True)
    result = {"cells": cells, "wall_s": round(time.time() - start, 1), "quick": args.quick}
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
