"""The audit as one self-contained HTML file: inline CSS, inline SVG plots, no script, no network.

Plots (each an ``<svg class="plot">`` with a stable id): accuracy per round
(``plot-accuracy``), accepted and rejected updates per round
(``plot-acceptance``), each client's reputation over rounds
(``plot-reputation``), rewards per participant (``plot-rewards``) and gas per
round (``plot-gas``). Below them, the verdict, the discrepancies, and a
drill-down table per round (``<details>``) with every update's scores.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from flchain.audit.auditor import TOKEN_AMOUNTS, AuditReport, RoundAudit, UpdateRow
from flchain.audit.svg import bar_chart, hbar_chart, line_chart
from flchain.units import ETHER_SYMBOL, TOKEN_SYMBOL, format_units, to_units

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; }
.verdict { padding: 10px 14px; border-radius: 6px; font-weight: 600; }
.ok { background: #e6f4ea; color: #137333; } .bad { background: #fce8e6; color: #a50e0e; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
svg.plot { border: 1px solid #ddd; border-radius: 6px; background: #fff; }
.plot-title { font-weight: 600; font-size: 13px; } .tick, .legend { font-size: 10px; fill: #444; }
.axis-label { font-size: 11px; fill: #444; } .grid { stroke: #eee; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
th { background: #f4f4f4; } td.num { text-align: right; } code { font-size: 11px; }
tr.rejected td { background: #fff4e5; } tr.flagged td { background: #fce8e6; }
details { margin: 6px 0; } summary { cursor: pointer; font-weight: 600; }
"""


def render_html(report: AuditReport) -> str:
    """The report as a complete HTML document."""
    task = report.task
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>FLchain audit {escape(str(task['protocol']))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>FLchain audit of task <code>{escape(str(task['protocol']))}</code></h1>",
        _verdict(report),
        _task_table(report),
        "<h2>Plots</h2>",
        '<div class="plots">',
        *plots(report),
        "</div>",
        _discrepancies(report),
        "<h2>Rounds</h2>",
        *(_round_details(r, int(task["acceptance_threshold"])) for r in report.rounds),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_html(report: AuditReport, path: Path) -> None:
    """Write :func:`render_html` to ``path`` (UTF-8)."""
    path.write_text(render_html(report), encoding="utf-8")


def plots(report: AuditReport) -> list[str]:
    """The five plots, as SVG strings."""
    done = [r for r in report.rounds if r.finalized]
    labels = [str(r.round) for r in done]
    accuracy: list[float | None] = [r.accuracy for r in done]
    out = [
        line_chart(
            "plot-accuracy",
            "Global model accuracy per round",
            ["init", *labels],
            {"test accuracy": [report.initial_accuracy, *accuracy]},
            y_label="accuracy",
            y_max=1.0,
        ),
        bar_chart(
            "plot-acceptance",
            "Accepted and rejected updates per round",
            labels,
            {"accepted": [r.accepted for r in done], "rejected": [r.rejected for r in done]},
            y_label="updates",
            colors=["#2ca02c", "#d62728"],
        ),
        line_chart(
            "plot-reputation",
            "Client reputation over rounds",
            labels,
            {
                _short(a): [None if v is None else float(v) for v in vs]
                for a, vs in report.client_reputation.items()
            },
            y_label="reputation",
            separate=True,
        ),
        hbar_chart(
            "plot-rewards",
            "Rewards per participant",
            [_role(report, a) + " " + _short(a) for a in report.rewards],
            [to_units(v) for v in report.rewards.values()],
            unit=TOKEN_SYMBOL,
            texts=[format_units(v) for v in report.rewards.values()],
        ),
        bar_chart(
            "plot-gas",
            "Gas per round",
            labels,
            {"gas": [float(r.gas_used) for r in done]},
            y_label="gas",
            colors=["#9467bd"],
        ),
    ]
    return out


def _role(report: AuditReport, address: str) -> str:
    return "miner" if address in report.miner_reputation else "client"


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def _verdict(report: AuditReport) -> str:
    finalized = sum(1 for r in report.rounds if r.finalized)
    if report.verified:
        text = (
            f"VERIFIED: {finalized} finalized round(s); "
            "every decision, balance and aggregate matches."
        )
        return f'<p class="verdict ok" id="verdict">{escape(text)}</p>'
    text = f"NOT VERIFIED: {len(report.discrepancies)} discrepancies."
    return f'<p class="verdict bad" id="verdict">{escape(text)}</p>'


def _task_table(report: AuditReport) -> str:
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td><code>"
        f"{escape(format_units(v) if k in TOKEN_AMOUNTS else str(v))}</code></td></tr>"
        for k, v in report.task.items()
    )
    return f"<table>{rows}<tr><th>audit time</th><td>{report.audit_s:.2f} s</td></tr></table>"


def _discrepancies(report: AuditReport) -> str:
    if not report.discrepancies:
        return "<h2>Discrepancies</h2><p>None.</p>"
    head = "".join(
        f"<th>{h}</th>" for h in ("round", "check", "subject", "chain says", "recomputed")
    )
    head = f"<tr>{head}</tr>"
    rows = "".join(
        "<tr class='flagged'>"
        f"<td>{'-' if d.round is None else d.round}</td><td>{escape(d.check)}</td>"
        f"<td><code>{escape(d.subject)}</code></td><td><code>{escape(str(d.chain_value))}</code></td>"
        f"<td><code>{escape(str(d.recomputed))}</code></td></tr>"
        for d in report.discrepancies
    )
    return f'<h2>Discrepancies</h2><table id="discrepancies">{head}{rows}</table>'


def _round_details(r: RoundAudit, threshold: int) -> str:
    status = "ok" if r.ok else ("open" if not r.finalized else "FLAGGED")
    acc = f", accuracy {r.accuracy:.3f}" if r.accuracy is not None else ""
    summary = (
        f"Round {r.round}: {r.submitted} submitted, {r.accepted} accepted, {r.rejected} rejected, "
        f"aggregate {r.aggregate_status}{acc} — {status}"
    )
    head = (
        "<tr><th>#</th><th>client</th><th>CID</th><th>samples</th><th>committee scores</th>"
        f"<th>median (≥ {threshold})</th><th>accepted</th><th>recomputed</th><th>verified</th>"
        "<th>auditor acc.</th><th>auditor score</th><th>auditor's reason</th></tr>"
    )
    rows = "".join(_update_row(u) for u in r.updates)
    facts = (
        f"<p>committee: {', '.join(map(_short, r.committee)) or '-'}; revealed: "
        f"{len(r.revealed)}/{len(r.committee)}; "
        f"certified <code>{escape(r.certified_cid or '-')}</code>; "
        f"recomputed <code>{escape(r.recomputed_cid or '-')}</code>; gas {r.gas_used:,} in "
        f"{r.transactions} transactions</p>"
    )
    if r.slashes:
        facts += (
            "<p>slashed: "
            + ", ".join(
                f"{_short(a)} ({format_units(v, ETHER_SYMBOL)} of bond)"
                for a, v in r.slashes.items()
            )
            + "</p>"
        )
    flagged = "".join(f"<li>{escape(str(d))}</li>" for d in r.discrepancies)
    if flagged:
        facts += f"<ul class='bad'>{flagged}</ul>"
    return (
        f'<details class="round" id="round-{r.round}"><summary>{escape(summary)}</summary>'
        f"{facts}<table>{head}{rows}</table></details>"
    )


def _update_row(u: UpdateRow) -> str:
    c = u.check
    cls = "rejected" if u.accepted is False else ""
    if c is not None and c.error:
        cls = "flagged"
    cells = [
        str(u.index),
        f"<code>{escape(_short(u.client))}</code>",
        f"<code>{escape(u.cid)}</code>",
        str(u.num_samples),
        escape(", ".join(str(s) for s in u.scores.values()) or "-"),
        str(u.median),
        "yes" if u.accepted else "no",
        f"{u.recomputed_median} / {'yes' if u.recomputed_accepted else 'no'}",
        "-" if c is None else ("yes" if c.fetched else escape(c.error or "not fetched")),
        "-" if c is None or c.accuracy is None else f"{c.accuracy:.3f}",
        "-" if c is None or c.score is None else str(c.score),
        "-" if c is None else escape(c.reason or ""),
    ]
    return f"<tr class='{cls}'>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>"
