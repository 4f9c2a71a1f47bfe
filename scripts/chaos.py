"""Fault campaign: many small tasks, one injected fault each, and what survived it.

Each trial runs a real task (``run_task``: 4 clients, 3 miners, committee 3,
3 rounds, digits; phases submit 20 s, commit 15 s, reveal 10 s; Anvil with a
state file) in its own process and working directory, and does ONE fault at a
seeded random round and phase (see ``chaos_faults.FAULTS`` and docs/chaos.md).
Then it checks that every round finished, no accepted update was lost, every
surviving client verified the certified aggregates, and ``flchain audit``
verifies (or flags exactly the round whose update lost a block).

Usage: ``python scripts/chaos.py --trials 20 [--seed 0] [--json] [--faults a,b]
[--budget 360] [--work DIR]``. Progress goes to stderr; ``--json`` prints one
object (``trials``, ``survived``, ``stalled_rounds``, ``lost_updates``,
``mean_recovery_s``, ``trial_results``). A trial over its time budget is
stopped (SIGTERM, then SIGKILL to it, its children and its node) and recorded
as stalled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from chaos_faults import FAULTS, Plan
from chaos_trial import spec_for

from flchain.chain.node import stop_pid

TRIAL = Path(__file__).with_name("chaos_trial.py")
CLEANUP_GRACE_S = 300.0  # registration, the final wait for children, the audit
COLUMNS = (
    "trial",
    "fault",
    "round",
    "phase",
    "target",
    "outcome",
    "stalled_rounds",
    "lost_updates",
    "audit_verified",
    "recovery_s",
    "note",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_one(plan: Plan) -> dict[str, Any]:
    """Run ``plan`` in its own process, within its budget; its result (or why there is none)."""
    work = Path(plan.work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "plan.json").write_text(json.dumps(plan.to_json(), indent=2))
    with (work / "trial.log").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(TRIAL), str(work / "plan.json")],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=plan.budget_s + CLEANUP_GRACE_S)
        except subprocess.TimeoutExpired:
            _stop_trial(proc, work)
            return _fallback(plan, "stalled", "trial exceeded its time budget and was stopped")
    path = work / "result.json"
    if path.exists():
        result: dict[str, Any] = json.loads(path.read_text())
        return result
    tail = (work / "trial.log").read_text(errors="replace").strip().splitlines()[-3:]
    return _fallback(plan, "error", f"trial exited {proc.returncode}: {' | '.join(tail)}")


def _stop_trial(proc: subprocess.Popen[bytes], work: Path) -> None:
    """SIGTERM the trial (it unwinds: children, node), then SIGKILL whatever is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    pids = work / "pids.json"
    for pid in json.loads(pids.read_text()).values() if pids.exists() else ():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGKILL)
    record = work / "home" / "testnet.json"
    if record.exists():
        with contextlib.suppress(Exception):
            stop_pid(int(json.loads(record.read_text())["pid"]), 10.0)
    store = work / "run" / "store"
    if store.is_mount():
        subprocess.run(["umount", "-l", str(store)], check=False, timeout=30)


def _fallback(plan: Plan, outcome: str, note: str) -> dict[str, Any]:
    rounds = spec_for(plan).rounds
    return {
        "trial": plan.trial,
        "fault": plan.fault,
        "round": plan.round,
        "phase": plan.phase,
        "target": "",
        "outcome": outcome,
        "stalled_rounds": rounds if outcome == "stalled" else 0,
        "lost_updates": 0,
        "audit_verified": False,
        "recovery_s": None,
        "note": note,
    }


def campaign(args: argparse.Namespace) -> dict[str, Any]:
    faults = args.faults.split(",") if args.faults else list(FAULTS)
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        raise SystemExit(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    root = Path(args.work or tempfile.mkdtemp(prefix="flchain-chaos-"))
    rounds = spec_for(Plan(0, args.seed, faults[0], 0, "submit", "", 0, 0)).rounds
    results = []
    for trial in range(args.trials):
        plan = Plan.draw(trial, args.seed, faults, rounds, root / f"trial-{trial}", args.budget)
        log(f"trial {trial + 1}/{args.trials}: {plan.fault} at round {plan.round} {plan.phase}")
        started = time.monotonic()
        result = run_one(plan)
        results.append(result)
        log(
            f"  -> {result['outcome']} in {time.monotonic() - started:.0f} s "
            f"(target {result['target'] or '-'}; recovery {result['recovery_s']} s) "
            f"{result['note']}"
        )
    recoveries = [r["recovery_s"] for r in results if r["recovery_s"] is not None]
    return {
        "trials": len(results),
        "seed": args.seed,
        "survived": sum(r["outcome"] == "survived" for r in results),
        "stalled_rounds": sum(r["stalled_rounds"] for r in results),
        "lost_updates": sum(r["lost_updates"] for r in results),
        "mean_recovery_s": round(statistics.mean(recoveries), 2) if recoveries else None,
        "work": str(root),
        "trial_results": results,
    }


def print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Chaos campaign (seed {report['seed']}, work dir {report['work']})")
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for r in report["trial_results"]:
        table.add_row(*(str(r.get(c, "")) for c in COLUMNS))
    console = Console(width=200)
    console.print(table)
    console.print(
        f"survived {report['survived']}/{report['trials']}, stalled rounds "
        f"{report['stalled_rounds']}, lost updates {report['lost_updates']}, "
        f"mean recovery {report['mean_recovery_s']} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--faults", default="", help=f"comma list from {', '.join(FAULTS)}")
    parser.add_argument("--budget", type=float, default=360.0, help="seconds of rounds per trial")
    parser.add_argument("--work", default="", help="working directory (default: a temp dir)")
    args = parser.parse_args()
    report = campaign(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
