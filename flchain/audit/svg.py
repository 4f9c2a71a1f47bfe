"""Tiny inline-SVG charts for the HTML report: lines, stacked bars, horizontal bars.

No plotting library and no script: each function returns one ``<svg>`` element
(with ``class="plot"`` and the given id) that any browser renders offline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 34, 40
DASHES = ("", "7 3", "2 3", "9 3 2 3", "4 2")
"""Stroke patterns that, with the colours, tell overlapping lines apart."""
OVERLAP_PX = 3.0
"""How far apart (pixels, upwards) lines with identical values are drawn."""


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _text(x: float, y: float, text: str, cls: str = "tick", anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
        f'class="bar"><title>{escape(tip)}</title></rect>'
    )


def _polyline(points: Sequence[str], stroke: str, dash: str = "") -> str:
    pattern = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{stroke}" '
        f'stroke-width="2"{pattern} class="series"/>'
    )


def _dot(x: float, y: float, fill: str, tip: str) -> str:
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{fill}">'
        f"<title>{escape(tip)}</title></circle>"
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = float(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return float(step * exp)
    return float(10 * exp)


def _fmt(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _frame(
    plot_id: str, title: str, body: list[str], y_max: float, y_label: str, height: int = HEIGHT
) -> str:
    inner_h = height - TOP - BOTTOM
    mid = TOP + inner_h / 2
    parts = [_open(plot_id, title, height)]
    for k in range(5):
        y = TOP + inner_h - inner_h * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, _fmt(y_max * k / 4), anchor="end"))
    parts.append(
        f'<text x="14" y="{mid:.1f}" class="axis-label" transform="rotate(-90 14 {mid:.1f})" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    parts += body
    parts.append("</svg>")
    return "\n".join(parts)


def _open(plot_id: str, title: str, height: int) -> str:
    return (
        f'<svg id="{escape(plot_id)}" class="plot" xmlns="http://www.w3.org/2000/svg" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img">'
        f"<title>{escape(title)}</title>" + _text(LEFT, 20, title, "plot-title")
    )


def _legend(names: Sequence[str], colors: Sequence[str]) -> list[str]:
    out = []
    x = WIDTH - RIGHT + 10
    for i, (name, c) in enumerate(zip(names[:14], colors, strict=False)):
        y = TOP + 14 * i
        out.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{c}"/>')
        out.append(_text(x + 14, y + 9, name, "legend"))
    if len(names) > 14:
        out.append(_text(x, TOP + 14 * 14 + 9, f"+{len(names) - 14} more", "legend"))
    return out


def _x_labels(labels: Sequence[str], xs: Sequence[float], height: int) -> list[str]:
    every = max(1, math.ceil(len(labels) / 16))
    return [
        _text(x, height - BOTTOM + 16, label, anchor="middle")
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % every == 0
    ]


def line_chart(
    plot_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    y_label: str = "",
    y_max: float | None = None,
    separate: bool = False,
) -> str:
    """One polyline (with dots) per series over the same x positions; gaps for None.

    With ``separate``, every party stays visible where lines coincide: each line
    has its own stroke pattern, series with identical values are drawn
    :data:`OVERLAP_PX` apart (their dots' tooltips keep the true values), and
    their legend entries share a tag ``[n]`` explained under the plot.
    """
    values = [v for s in series.values() for v in s if v is not None]
    offsets, tags = overlaps(series) if separate else ({}, {})
    top = y_max if y_max is not None else _nice_max(max(values, default=1.0))
    n = max(len(x_labels), 1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    xs = [LEFT + inner_w * (i + 0.5) / n for i in range(len(x_labels))]

    def y_of(v: float) -> float:
        return TOP + inner_h - inner_h * min(v, top) / top

    body: list[str] = []
    for k, (name, points) in enumerate(series.items()):
        dash = DASHES[k % len(DASHES)] if separate else ""
        shift = OVERLAP_PX * offsets.get(name, 0)
        run: list[str] = []
        for x, v in zip(xs, points, strict=False):
            if v is None:
                body += [_polyline(run, color(k), dash)] if len(run) > 1 else []
                run = []
                continue
            run.append(f"{x:.1f},{y_of(v) - shift:.1f}")
            body.append(_dot(x, y_of(v) - shift, color(k), f"{name}: {v:g}"))
        body += [_polyline(run, color(k), dash)] if len(run) > 1 else []
    body += _x_labels(x_labels, xs, HEIGHT)
    names = [f"{name} [{tags[name]}]" if name in tags else name for name in series]
    body += _legend(names, [color(k) for k in range(len(series))])
    if tags:
        note = f"[n]: identical lines, drawn {OVERLAP_PX:g} px apart so each stays visible"
        body.append(_text(LEFT, HEIGHT - 4, note, "legend"))
    return _frame(plot_id, title, body, top, y_label)


def overlaps(series: Mapping[str, Sequence[float | None]]) -> tuple[dict[str, int], dict[str, int]]:
    """Series with identical values: each one's rank in its group (0 for the first,
    drawn in place) and its group's tag (1, 2, ... in order of first appearance)."""
    groups: dict[tuple[float | None, ...], list[str]] = {}
    for name, points in series.items():
        groups.setdefault(tuple(points), []).append(name)
    offsets: dict[str, int] = {}
    tags: dict[str, int] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        tag = len({*tags.values()}) + 1
        for rank, name in enumerate(members):
            offsets[name], tags[name] = rank, tag
    return offsets, tags


def bar_chart(
    plot_id: str,
    title: str,
    x_labels: Sequence[str],
    stacks: Mapping[str, Sequence[float]],
    *,
    y_label: str = "",
    colors: Sequence[str] | None = None,
) -> str:
    """Vertical bars, one per x label, stacked by series."""
    totals = [sum(s[i] for s in stacks.values()) for i in range(len(x_labels))]
    top = _nice_max(max(totals, default=1.0))
    n = max(len(x_labels), 1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / n
    palette = list(colors) if colors else [color(k) for k in range(len(stacks))]
    body: list[str] = []
    xs = [LEFT + slot * (i + 0.5) for i in range(len(x_labels))]
    for i, label in enumerate(x_labels):
        base = 0.0
        for k, (name, values) in enumerate(stacks.items()):
            v = values[i]
            if v <= 0:
                continue
            h = inner_h * v / top
            y = TOP + inner_h - inner_h * base / top - h
            tip = f"round {label} {name}: {v:g}"
            body.append(_rect(LEFT + slot * (i + 0.15), y, slot * 0.7, h, palette[k], tip))
            base += v
    body += _x_labels(x_labels, xs, HEIGHT)
    body += _legend(list(stacks), palette)
    return _frame(plot_id, title, body, top, y_label)


def hbar_chart(
    plot_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    unit: str = "",
    texts: Sequence[str] | None = None,
) -> str:
    """Horizontal bars, one per label (e.g. rewards per participant), each with its value
    written beside it (``texts``, or the value to two decimals)."""
    height = max(HEIGHT, TOP + BOTTOM + 16 * len(labels))
    top = _nice_max(max(values, default=1.0))
    x0, inner_w = 150, WIDTH - 150 - 90
    body: list[str] = [_open(plot_id, f"{title} ({unit})", height)]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = TOP + 16 * i
        w = inner_w * v / top
        text = texts[i] if texts is not None else f"{v:,.2f}"
        body.append(_rect(x0, y, w, 12, color(i), f"{label}: {text}"))
        body.append(_text(x0 - 6, y + 10, label, anchor="end"))
        body.append(_text(x0 + w + 4, y + 10, text))
    body.append("</svg>")
    return "\n".join(body)
