"""One trial of ``scripts/chaos.py``: run a small task with one fault, then check what survived.

Usage (by ``chaos.py``, one process per trial): ``python scripts/chaos_trial.py PLAN.json``.
Writes ``result.json`` beside the plan. The chain is started here (not by
``run_task``) so it is still up for the checks and the audit, which read it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from chaos_faults import Injector, Plan
from chaos_node import Chain
from rich.console import Console

from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase
from flchain.exceptions import FLchainError
from flchain.party.party import TestnetInfo
from flchain.party.roundlog import read_events
from flchain.run.orchestrator import RunOptions, run_task
from flchain.run.setup import Phases, admin_transactor
from flchain.storage.local import LocalStore
from flchain.task.spec import TaskSpec

PHASES = Phases(submit=20, commit=15, reveal=10)
TMPFS_SIZE = "16m"
CLI = [sys.executable, "-c", "from flchain.cli import main; main()"]


def spec_for(plan: Plan) -> TaskSpec:
    return TaskSpec(
        dataset="digits",
        partition="iid",
        seed=plan.seed,
        arch="digits-mlp",
        clients=4,
        miners=3,
        rounds=3,
        committee=3,
    )


def run_trial(plan: Plan) -> dict[str, Any]:
    work = Path(plan.work)
    home, out = work / "home", work / "run"
    store = out / "store"
    spec = spec_for(plan)
    chain = Chain(home, proxy=plan.fault == "restart-chain")
    injector = Injector(plan, home, store, chain.restart)
    error = ""
    summary: dict[str, Any] = {}
    mounted = False
    started = time.monotonic()
    try:
        if plan.fault == "disk-full":
            store.mkdir(parents=True, exist_ok=True)
            cmd = ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(store)]
            subprocess.run(cmd, check=True, capture_output=True, timeout=30)
            mounted = True
            injector.record.note += f" store on a {TMPFS_SIZE} tmpfs (mount);"
        chain.up()
        options = RunOptions(
            spec=spec,
            out=out,
            home=home,
            node_config=None,
            phases=PHASES,
            timeout_s=plan.budget_s,
            on_started=injector.start,
        )
        with (work / "console.txt").open("w") as console_file:
            try:
                summary = run_task(options, Console(file=console_file, width=120)).summary
            except FLchainError as exc:
                error = f"run failed: {type(exc).__name__}: {exc}"
        injector.done.wait(timeout=30)
        result = check(plan, spec, home, out, injector, summary)
    finally:
        try:
            chain.down()
        finally:
            if mounted:
                subprocess.run(["umount", "-l", str(store)], check=False, timeout=30)
    result["note"] = (error + " " + result["note"]).strip()
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def check(
    plan: Plan, spec: TaskSpec, home: Path, out: Path, injector: Injector, summary: dict[str, Any]
) -> dict[str, Any]:
    """Rounds finished, accepted updates fetchable, aggregates verified, the audit's verdict."""
    rec = injector.record
    task = json.loads((out / "task.json").read_text())
    transactor, admin = admin_transactor(TestnetInfo.load(home / "testnet.json"))
    viewer = ProtocolClient(
        transactor, task["protocol"], admin, from_block=task["deployment_block"]
    )
    store = LocalStore(out / "store")
    notes: list[str] = []
    stalled: list[str] = []
    certified: dict[int, str] = {}
    lost = 0
    for r in range(spec.rounds):
        phase = viewer.phase(r)
        accepted = viewer.accepted_updates(r)
        cid = viewer.certified_aggregate(r)
        if phase != Phase.FINALIZED:
            stalled.append(f"round {r} not finalized (phase {phase.name.lower()})")
        elif accepted and cid is None:
            stalled.append(f"round {r}: {len(accepted)} accepted, aggregate never certified")
        if cid is not None:
            certified[r] = cid
        for update in accepted:
            try:
                store.get(update.cid)
            except FLchainError as exc:
                if update.cid == rec.damaged_cid:
                    notes.append(f"round {r} update {update.index}: lost to the fault, as injected")
                else:
                    lost += 1
                    notes.append(f"round {r} update {update.index} LOST: {exc}")
    codes: dict[str, int | None] = summary.get("exit_codes", {})
    survivors = [n for n, c in codes.items() if c == 0 and n.startswith("client-")]
    crashed = {n: c for n, c in codes.items() if c != 0 and n not in rec.victims}
    if crashed:
        notes.append("unexpected exits: " + ", ".join(f"{n} ({c})" for n, c in crashed.items()))
    mismatches = len(summary.get("aggregate_mismatches", []))
    for name in survivors:
        verified = {
            e["round"]: e.get("cid")
            for e in read_events(out / "logs" / f"{name}.jsonl")
            if e["event"] == "verified"
        }
        wrong = [r for r, cid in certified.items() if verified.get(r) != cid]
        if wrong:
            mismatches += 1
            notes.append(f"{name} did not verify round(s) {wrong}")
    audit = run_audit(home, out)
    flagged = sorted(
        {d["round"] for d in audit.get("discrepancies", []) if d.get("round") is not None}
    )
    expected = [rec.damaged_round] if rec.damaged_round is not None else []
    audit_ok = flagged == expected and (bool(audit.get("verified")) or bool(expected))
    if not audit_ok:
        notes.append(
            f"audit flagged rounds {flagged}, expected {expected}: {audit.get('error', '')}"
        )
    if stalled:
        outcome = "stalled"
    elif lost or mismatches or not audit_ok:
        outcome = "damaged"
    else:
        outcome = "degraded" if crashed else "survived"
    return {
        "trial": plan.trial,
        "fault": plan.fault,
        "round": rec.fired_round if rec.fired_round is not None else plan.round,
        "phase": rec.fired_phase or plan.phase,
        "target": rec.target,
        "outcome": outcome,
        "stalled_rounds": len(stalled),
        "lost_updates": lost,
        "audit_verified": bool(audit.get("verified")),
        "audit_flagged_rounds": flagged,
        "aggregate_mismatches": mismatches,
        "recovery_s": rec.recovery_s,
        "note": " ".join([rec.note.strip(), *stalled, *notes]).strip(),
    }


def run_audit(home: Path, out: Path) -> dict[str, Any]:
    """``flchain audit --run OUT --json`` against the trial's chain; its report, or an error."""
    cmd = [*CLI, "audit", "--testnet", str(home / "testnet.json"), "--run", str(out), "--json"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    except subprocess.TimeoutExpired:
        return {"verified": False, "error": "audit timed out after 240 s"}
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return {"verified": False, "error": f"audit exit {done.returncode}: {done.stderr[-300:]}"}
    return report


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"terminated by signal {signum}")


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)  # unwinds run_task: children and chain stop
    plan_path = Path(sys.argv[1])
    plan = Plan(**json.loads(plan_path.read_text()))
    result = run_trial(plan)
    (plan_path.parent / "result.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
