"""Rendering an :class:`AuditReport`: a rich terminal table and verdict, or JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from flchain.audit.auditor import AuditReport, RoundAudit
from flchain.audit.checks import Discrepancy
from flchain.audit.models import AggregateStatus
from flchain.audit.privacy import privacy_line

MAX_LISTED = 20
MAX_REJECTED = 40
WIDE = 132  # columns when the output is not a terminal (a pipe or a file)


def to_json(report: AuditReport) -> str:
    """``{"verified": bool, "rounds": [...], "discrepancies": [...], ...}``."""
    return json.dumps(report.to_json(), indent=2)


def print_report(report: AuditReport, console: Console | None = None) -> None:
    """Per-round table, rejected updates with the reasons, discrepancies, verdict."""
    out = console or (Console() if sys.stdout.isatty() else Console(width=WIDE))
    task = report.task
    out.print(
        f"[bold]Audit of task {task['protocol']}[/] on chain {task['chain_id']} "
        f"(blocks {task['from_block']}..{task['to_block']})"
    )
    if "strategy" in task:
        out.print(f"dataset {task['dataset']}, model {task['arch']}, strategy {task['strategy']}")
    if report.privacy is not None:
        out.print(privacy_line(report.privacy))
    out.print(round_table(report))
    rejected = rejection_table(report)
    if rejected.row_count:
        out.print(rejected)
    flagged = flagged_table(report)
    if flagged.row_count:
        out.print(flagged)
    if report.discrepancies:
        out.print(discrepancy_table(report.discrepancies))
    out.print(verdict(report))


def round_table(report: AuditReport) -> Table:
    table = Table(title="Rounds")
    for column in (
        "round",
        "submitted",
        "accepted",
        "rejected",
        "revealed",
        "certified CID",
        "accuracy",
        "gas",
    ):
        table.add_column(column, justify="right" if column != "certified CID" else "left")
    for r in report.rounds:
        table.add_row(
            str(r.round),
            str(r.submitted),
            str(r.accepted) if r.finalized else "-",
            str(r.rejected) if r.finalized else "-",
            f"{len(r.revealed)}/{len(r.committee)}",
            _cid_cell(r),
            f"{r.accuracy:.3f}" if r.accuracy is not None else "-",
            f"{r.gas_used:,}",
        )
    return table


def _cid_cell(r: RoundAudit) -> str:
    if not r.finalized:
        return "[dim]round open[/]"
    if r.aggregate_status == AggregateStatus.MATCH:
        return f"[green]ok[/] {_short(r.certified_cid)}"
    if r.aggregate_status == AggregateStatus.NOTHING_ACCEPTED:
        return "[green]ok[/] (nothing accepted)"
    if r.aggregate_status == AggregateStatus.NOT_CHECKED:
        return "[yellow]not checked[/] (no store)"
    return f"[red]{r.aggregate_status}[/] {_short(r.certified_cid)}"


def _short(cid: str | None) -> str:
    return "-" if not cid else f"{cid[:10]}…{cid[-6:]}"


def rejection_table(report: AuditReport) -> Table:
    """Every rejected update: the committee's scores and median, and the auditor's view."""
    limit = int(report.task["acceptance_threshold"])
    table = Table(title=f"Rejected updates (acceptance needs median >= {limit})")
    for column in (
        "round",
        "index",
        "client",
        "scores",
        "median",
        "auditor score",
        "auditor agrees",
        "auditor's reason",
    ):
        table.add_column(column)
    rejected = [(r, u) for r in report.rounds for u in r.updates if u.accepted is False]
    if len(rejected) > MAX_REJECTED:
        table.caption = f"… and {len(rejected) - MAX_REJECTED} more (see --json or --html)"
    for r, u in rejected[:MAX_REJECTED]:
        check = u.check
        table.add_row(
            str(r.round),
            str(u.index),
            _short_address(u.client),
            ",".join(str(s) for s in u.scores.values()) or "no reveals",
            str(u.median),
            "-" if check is None or check.score is None else str(check.score),
            _agrees(check.score if check else None, limit),
            "-" if check is None else (check.error or check.reason or "-"),
        )
    return table


def flagged_table(report: AuditReport) -> Table:
    """Accepted updates that the auditor's own proof-of-quality rejects, with its reason."""
    table = Table(title="Accepted updates the auditor's own proof-of-quality rejects")
    for column in ("round", "index", "client", "median", "auditor's reason"):
        table.add_column(column)
    for r in report.rounds:
        for u in r.updates:
            if u.flagged and u.check is not None:
                reason = u.check.error or u.check.reason or "-"
                table.add_row(
                    str(r.round), str(u.index), _short_address(u.client), str(u.median), reason
                )
    return table


def _agrees(score: int | None, threshold: int) -> str:
    """Whether the auditor would also have rejected (its own score below the threshold)."""
    if score is None:
        return "-"
    return "[green]yes[/]" if score < threshold else "[yellow]no[/]"


def _short_address(address: str) -> str:
    return f"{address[:8]}…{address[-4:]}"


def discrepancy_table(found: list[Discrepancy]) -> Table:
    table = Table(title=f"Discrepancies ({len(found)})", style="red")
    for column in ("round", "check", "subject", "chain says", "recomputed"):
        table.add_column(column)
    for d in found[:MAX_LISTED]:
        table.add_row(
            "-" if d.round is None else str(d.round),
            d.check,
            d.subject,
            _cell(d.chain_value),
            _cell(d.recomputed),
        )
    if len(found) > MAX_LISTED:
        table.caption = f"… and {len(found) - MAX_LISTED} more (see --json)"
    return table


def _cell(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def verdict(report: AuditReport) -> str:
    finalized = [r for r in report.rounds if r.finalized]
    if report.verified and not finalized:
        return "[bold yellow]NOTHING TO VERIFY YET[/]: no round of this task is finalized."
    if report.verified:
        return (
            f"[bold green]VERIFIED[/]: {len(finalized)} finalized round(s) recomputed from the "
            "chain and the store; every decision, balance and aggregate matches "
            f"({report.audit_s:.1f} s)."
        )
    bad = sorted({d.round for d in report.discrepancies if d.round is not None})
    where = f"round(s) {', '.join(map(str, bad))}" if bad else "the final state"
    return (
        f"[bold red]NOT VERIFIED[/]: {len(report.discrepancies)} discrepanc"
        f"{'y' if len(report.discrepancies) == 1 else 'ies'} in {where}."
    )
