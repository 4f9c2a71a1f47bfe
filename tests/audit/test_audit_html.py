"""The HTML report is one self-contained file whose plots render in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from audit_helpers import BuiltTask

from flchain.audit.auditor import AuditReport, audit_history
from flchain.audit.history import Source, load_history, load_test_data
from flchain.audit.html import render_html, write_html
from flchain.audit.svg import bar_chart, hbar_chart, line_chart
from flchain.storage import LocalStore
from flchain.units import format_units

pytestmark = pytest.mark.xdist_group("audit")

PLOTS = ("plot-accuracy", "plot-acceptance", "plot-reputation", "plot-rewards", "plot-gas")
WIDTH, HEIGHT = 1200, 2400


@pytest.fixture(scope="module")
def report(clean_task: BuiltTask) -> AuditReport:
    history = load_history(
        Source(clean_task.node.rpc_url, clean_task.run.protocol, clean_task.run.block)
    )
    store = LocalStore(clean_task.store_dir)
    return audit_history(history, store, test_data=load_test_data("digits"))


def test_page_is_self_contained_with_every_plot(report: AuditReport) -> None:
    page = render_html(report)
    for plot in PLOTS:
        assert f'id="{plot}"' in page
    assert "<script" not in page
    external = re.findall(r'(?:src|href)="(?!#)[^"]*"', page)
    assert external == []
    assert "VERIFIED" in page
    for r in report.rounds:
        assert f'id="round-{r.round}"' in page
    # one dot per finalized round plus the initial model on the accuracy plot
    accuracy = page.split('id="plot-accuracy"')[1].split("</svg>")[0]
    assert accuracy.count("<circle") == 1 + sum(r.finalized for r in report.rounds)


def test_charts_scale_their_data() -> None:
    svg = line_chart("p", "t", ["0", "1"], {"a": [0.5, None], "b": [0.25, 1.0]}, y_max=1.0)
    assert svg.count("<circle") == 3 and svg.count("<polyline") == 1
    bars = bar_chart("q", "t", ["0", "1"], {"x": [2, 0], "y": [1, 3]})
    assert bars.count('class="bar"') == 3
    h = hbar_chart("r", "t", ["a", "b"], [1.0, 3.0], unit="tokens")
    assert h.count('class="bar"') == 2 and "3.00" in h
    named = hbar_chart("r", "t", ["a", "b"], [1.0, 3.0], unit="FLR", texts=["1 FLR", "3 FLR"])
    assert ">3 FLR</text>" in named and "3.00" not in named


def _lines(svg: str) -> list[str]:
    return re.findall(r'<polyline points="([^"]*)"', svg)


def test_identical_lines_are_drawn_apart_and_tagged() -> None:
    series = {
        "a": [1.0, 2.0, 3.0],
        "b": [1.0, 2.0, 3.0],
        "c": [2.0, 2.0, 2.0],
        "d": [1.0, 2.0, 3.0],
    }
    plain = line_chart("p", "t", ["0", "1", "2"], series)
    assert len(set(_lines(plain))) == 2  # a, b and d on top of each other
    svg = line_chart("p", "t", ["0", "1", "2"], series, separate=True)
    lines = _lines(svg)
    assert len(lines) == 4 and len(set(lines)) == 4  # every party visible
    ys = [[float(p.split(",")[1]) for p in line.split()] for line in lines]
    assert [round(a - b, 1) for a, b in zip(ys[0], ys[1], strict=True)] == [3.0, 3.0, 3.0]
    assert len(set(re.findall(r'stroke-dasharray="([^"]*)"', svg))) == 3  # a's line is solid
    assert ">a [1]<" in svg and ">b [1]<" in svg and ">d [1]<" in svg and ">c<" in svg
    assert "identical lines, drawn 3 px apart" in svg
    assert "b: 2</title>" in svg  # tooltips keep the true values
    unique = line_chart("p", "t", ["0"], {"a": [1.0], "b": [2.0]}, separate=True)
    assert "[1]" not in unique and "identical lines" not in unique


def test_token_amounts_are_shown_in_token_units(report: AuditReport) -> None:
    page = render_html(report)
    reward = int(report.task["client_reward_per_round"])
    assert str(reward) not in page and f">{format_units(reward)}</code>" in page
    rewards = page.split('id="plot-rewards"')[1].split("</svg>")[0]
    shown = re.findall(r">([0-9.,]+) FLR</text>", rewards)
    assert len(shown) == len(report.rewards)
    assert all(len(s.partition(".")[2]) <= 4 for s in shown)  # readable, not 18 decimals
    assert not re.search(r"\d{15,}", page)  # no raw wei anywhere
    reputation = page.split('id="plot-reputation"')[1].split("</svg>")[0]
    lines = _lines(reputation)
    assert len(lines) == len(report.client_reputation) == len(set(lines))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")


def _run_chromium(page: Path, profile: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
    ]
    return subprocess.run(
        [_chromium(), *flags, *mode, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plots_render_in_headless_chromium(report: AuditReport, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_html(report, page)
    shot = tmp_path / "report.png"
    done = _run_chromium(page, tmp_path / "profile", f"--screenshot={shot}")
    assert shot.exists(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    dom = _run_chromium(page, tmp_path / "profile2", "--dump-dom").stdout
    for plot in PLOTS:
        assert re.search(rf'<svg[^>]*id="{plot}"', dom), plot
    assert dom.count("<polyline") >= 1 + len(report.client_reputation)
    reputation = dom.split('id="plot-reputation"')[1].split("</svg>")[0]
    assert len(set(_lines(reputation))) == len(report.client_reputation)  # none hidden
    assert dom.count('class="bar"') >= sum(r.finalized for r in report.rounds)

    image = pytest.importorskip("PIL.Image")
    with image.open(shot) as png:
        rgb = png.convert("RGB")
        assert rgb.size == (WIDTH, HEIGHT)
        colours = rgb.getcolors(maxcolors=WIDTH * HEIGHT) or []
    counts = {c: n for n, c in colours}
    # pixels painted by the plots: accuracy line, accepted and rejected bars
    assert counts.get((0x1F, 0x77, 0xB4), 0) > 100
    assert counts.get((0x2C, 0xA0, 0x2C), 0) > 100
    assert counts.get((0xD6, 0x27, 0x28), 0) > 100


def test_terminal_and_json_reports(report: AuditReport) -> None:
    import json

    from rich.console import Console

    from flchain.audit.report import print_report, to_json

    console = Console(record=True, width=160)
    print_report(report, console)
    text = console.export_text()
    assert "VERIFIED" in text and "NOT VERIFIED" not in text
    assert "Rejected updates" in text and "free-riding: change" in text
    body = json.loads(to_json(report))
    assert body["verified"] is True and body["discrepancies"] == []
    assert len(body["rounds"]) == len(report.rounds)
    summary = body["summary"]
    assert summary["finalized_rounds"] == 3 and summary["aggregates_matching"] == 3
    assert summary["submitted"] == summary["accepted"] + summary["rejected"] == 18
    assert summary["discrepancies_by_check"] == {}
    assert {"round", "cid_ok", "accuracy", "updates", "votes"} <= set(body["rounds"][0])


def test_a_flagged_report_shows_its_discrepancies(forged_task: BuiltTask) -> None:
    history = load_history(
        Source(forged_task.node.rpc_url, forged_task.run.protocol, forged_task.run.block)
    )
    flagged = audit_history(history, LocalStore(forged_task.store_dir), rescore=False)
    page = render_html(flagged)
    assert "NOT VERIFIED" in page and 'id="discrepancies"' in page
    assert str(forged_task.run.certified[1]) in page
    assert "FLAGGED" in page.split('id="round-1"')[1].split("</summary>")[0]
