"""Plots and tables of a ``bench_robustness.py --json`` result, for docs/robustness.md.

Per dataset, one SVG (``<out>/robustness-<dataset>.svg``): the final accuracy
of every client attack (10 % and 30 %), proof-of-quality on the chain against
plain ``flchain baseline`` with FedAvg, MultiKrum and FLTrust on the same
attack (× where a baseline run failed), with the clean run's accuracy as a
line. Prints the Markdown tables (client attacks, then miner attacks) on
standard output. Several results (say,
``--only`` runs made side by side) are merged cell by cell, the later winning.

    .venv/bin/python scripts/plot_robustness.py robustness.json --out docs
    .venv/bin/python scripts/plot_robustness.py digits.json mnist1d.err --merged all.json
"""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path
from typing import Any

from flchain.audit.svg import PALETTE

SERIES = ("proof-of-quality", "fedavg", "multikrum", "fltrust")
BAR_W, GAP, LEFT, TOP, PLOT_H, LABELS_H = 9, 14, 56, 40, 220, 110


def accuracies(cell: dict[str, Any]) -> list[float]:
    """The cell's accuracy with proof-of-quality, then each baseline's (NaN when absent)."""
    base = cell.get("baselines") or {}
    return [float(cell["accuracy"])] + [float(base.get(b, "nan")) for b in SERIES[1:]]


def svg(dataset: str, cells: list[dict[str, Any]]) -> str:
    """Grouped bars: one group per (attack, fraction), one bar per defence."""
    group_w = BAR_W * len(SERIES) + GAP
    width = max(640, LEFT + group_w * len(cells) + 150)
    height = TOP + PLOT_H + LABELS_H
    y_of = lambda acc: TOP + PLOT_H * (1 - acc)  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<text x="{LEFT}" y="20" font-size="14">{escape(dataset)}: final accuracy per '
        "client attack, proof-of-quality against robust aggregation alone</text>",
    ]
    for k in range(6):
        acc = k / 5
        parts.append(
            f'<line x1="{LEFT}" x2="{width - 150}" y1="{y_of(acc):.1f}" y2="{y_of(acc):.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y_of(acc) + 4:.1f}" '
            f'text-anchor="end">{acc:.1f}</text>'
        )
    for g, cell in enumerate(cells):
        x0 = LEFT + g * group_w + GAP / 2
        for s, acc in enumerate(accuracies(cell)):
            x, y = x0 + s * BAR_W, y_of(max(0.0, acc))
            if acc != acc:  # NaN: the run failed (a baseline whose training diverged)
                parts.append(
                    f'<text x="{x + BAR_W / 2:.1f}" y="{y_of(0.0) - 2:.1f}" fill="{PALETTE[s]}" '
                    f'text-anchor="middle">×<title>{escape(SERIES[s])}: failed</title></text>'
                )
                continue
            h = TOP + PLOT_H - y
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{BAR_W - 1}" height="{h:.1f}" '
                f'fill="{PALETTE[s]}"><title>{escape(SERIES[s])}: {acc:.3f}</title></rect>'
            )
        label = f"{cell['attack']} {round(100 * cell['fraction'])}%"
        lx, ly = x0 + group_w / 2 - GAP / 2, TOP + PLOT_H + 8
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="end" '
            f'transform="rotate(-60 {lx:.1f} {ly:.1f})">{escape(label)}</text>'
        )
    clean = float(cells[0]["clean_accuracy"]) if cells else 0.0
    parts.append(
        f'<line x1="{LEFT}" x2="{width - 150}" y1="{y_of(clean):.1f}" y2="{y_of(clean):.1f}" '
        f'stroke="#000" stroke-dasharray="4 3"><title>clean run: {clean:.3f}</title></line>'
    )
    legend = [*SERIES, f"clean run ({clean:.3f})"]
    for s, name in enumerate(legend):
        y = TOP + 16 * s
        fill = PALETTE[s] if s < len(SERIES) else "#000"
        parts.append(
            f'<rect x="{width - 140}" y="{y}" width="10" height="10" fill="{fill}"/>'
            f'<text x="{width - 125}" y="{y + 9}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


# The goals, for the table's last column (client attacks are judged at 30 %).
MAX_ACCURACY_DROP = 0.02
MIN_MALICIOUS_REJECTED = 0.95  # where the attack harms
MAX_HONEST_REJECTED = 0.05
MAX_MALICIOUS_REWARD = 0.05
MAX_TRIGGER_SUCCESS = 0.10  # backdoor


def client_misses(c: dict[str, Any]) -> list[str]:
    """The goals a client-attack cell misses (empty: all met)."""
    misses = []
    if c["accuracy"] < c["clean_accuracy"] - MAX_ACCURACY_DROP:
        misses.append("accuracy")
    if c["harmful"] and (c["malicious_rejected"] or 0.0) < MIN_MALICIOUS_REJECTED:
        misses.append("rejected")
    if (c["honest_rejected"] or 0.0) > MAX_HONEST_REJECTED:
        misses.append("honest rejected")
    if c["malicious_reward_share"] > MAX_MALICIOUS_REWARD:
        misses.append("reward")
    if c["attack"] == "backdoor" and (c.get("attack_success_rate") or 0.0) > MAX_TRIGGER_SUCCESS:
        misses.append("trigger")
    return misses


def miner_misses(c: dict[str, Any]) -> list[str]:
    """The goals a lying-miner cell misses: no decision changed, liars below honest miners."""
    misses = []
    if c["decisions_changed"]:
        misses.append("decisions")
    if max(c["liar_reputation"]) >= min(c["honest_miner_reputation"]):
        misses.append("reputation")
    if max(c["liar_rewards"]) >= min(c["honest_miner_rewards"]):
        misses.append("rewards")
    return misses


def verdict(misses: list[str]) -> str:
    return "met" if not misses else "**not met**: " + ", ".join(misses)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def client_row(c: dict[str, Any]) -> str:
    base = " / ".join("failed" if a != a else f"{a:.3f}" for a in accuracies(c)[1:])
    asr = c.get("attack_success_rate") if c["attack"] == "backdoor" else None
    harmless = "" if c["harmful"] else " (harmless)"
    goals = verdict(client_misses(c)) if c["fraction"] >= 0.3 else ""
    return (
        f"| {c['dataset']} | `{c['attack']}`{harmless} | {round(100 * c['fraction'])} % | "
        f"{c['accuracy']:.3f} | {100 * (c['accuracy'] - c['clean_accuracy']):+.1f} pp | "
        f"{pct(c['malicious_rejected'])} | {pct(c['honest_rejected'])} | "
        f"{pct(c['malicious_reward_share'])} | {'—' if asr is None else f'{asr:.3f}'} | "
        f"{base} | {goals} |"
    )


def miner_row(c: dict[str, Any]) -> str:
    beside = c.get("client_attack", "none")
    bad = "—" if beside == "none" else f"{pct(c.get('malicious_rejected'))}"
    return (
        f"| {c['dataset']} | `{c['attack']}` | {c['miners']} | `{beside}` | {bad} | "
        f"{c['accuracy']:.3f} | "
        f"{c['decisions_changed']} | {c['liar_reputation']} | {c['honest_miner_reputation']} | "
        f"{c['liar_rewards']} / {c['honest_miner_rewards']} | "
        f"{verdict(miner_misses(c)) if c['miners'] >= 2 else ''} |"
    )


def cell_key(c: dict[str, Any]) -> tuple[str, str, float]:
    return c["dataset"], c["attack"], c.get("fraction", c.get("miners", 0))


def load_cells(paths: list[Path]) -> list[dict[str, Any]]:
    """The cells of several results, each a printed object (``{"cells": [...]}``) or the
    cells a run streamed to stderr, one JSON object a line; where two give the same cell
    (dataset, attack, fraction or liars), the later file's wins, in the earlier one's place."""
    cells: dict[tuple[str, str, float], dict[str, Any]] = {}
    for path in paths:
        text = path.read_text()
        try:
            found = json.loads(text)["cells"]
        except (json.JSONDecodeError, KeyError, TypeError):
            found = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        for c in found:
            cells[cell_key(c)] = c
    return list(cells.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "results", type=Path, nargs="+", help="what bench_robustness.py printed (or streamed)"
    )
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--merged", type=Path, help="also write the merged cells here as JSON")
    args = parser.parse_args()
    cells = load_cells(args.results)
    if args.merged is not None:
        args.merged.write_text(json.dumps({"cells": cells}, indent=1) + "\n")
    clients = [c for c in cells if "fraction" in c]
    args.out.mkdir(parents=True, exist_ok=True)
    for dataset in dict.fromkeys(c["dataset"] for c in clients):
        mine = [c for c in clients if c["dataset"] == dataset]
        (args.out / f"robustness-{dataset}.svg").write_text(svg(dataset, mine) + "\n")
    print(
        "| dataset | attack | fraction | accuracy | vs clean | malicious rejected | "
        "honest rejected | malicious reward share | trigger success | "
        "FedAvg / MultiKrum / FLTrust | goals (at 30 %) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(client_row(c) for c in clients))
    print()
    print(
        "| dataset | attack | lying miners | malicious clients | their updates rejected | "
        "accuracy | decisions changed | liars' reputation | honest miners' reputation | "
        "liars' / honest rewards | goals (2 liars) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(miner_row(c) for c in cells if "miners" in c))


if __name__ == "__main__":
    main()
