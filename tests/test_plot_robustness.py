"""scripts/plot_robustness.py: a bench_robustness result as plots and tables that say which
goals each cell meets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "plot_robustness.py"


def _client(attack: str, fraction: float, **over: Any) -> dict[str, Any]:
    cell = {
        "dataset": "digits",
        "attack": attack,
        "fraction": fraction,
        "harmful": True,
        "accuracy": 0.92,
        "clean_accuracy": 0.93,
        "malicious_rejected": 1.0,
        "honest_rejected": 0.0,
        "malicious_reward_share": 0.0,
        "attack_success_rate": 0.0,
        "baselines": {"fedavg": 0.5, "multikrum": 0.9, "fltrust": 0.91},
    }
    return {**cell, **over}


def _miner(
    count: int, changed: int, liar_rep: int, attack: str = "inverted-scores"
) -> dict[str, Any]:
    return {
        "dataset": "digits",
        "attack": attack,
        "miners": count,
        "accuracy": 0.93,
        "clean_accuracy": 0.93,
        "decisions_changed": changed,
        "liar_reputation": [liar_rep] * count,
        "honest_miner_reputation": [175] * (5 - count),
        "liar_rewards": [11.0] * count,
        "honest_miner_rewards": [81.0] * (5 - count),
        "client_attack": "label-flip:0.3",
        "malicious_rejected": 0.9,
    }


def test_rows_say_which_goals_each_cell_misses(tmp_path: Path) -> None:
    cells = [
        _client("label-flip", 0.3),
        _client("label-flip", 0.1, accuracy=0.5),  # goals are judged at 30 % only
        _client("backdoor", 0.3, malicious_rejected=0.4, attack_success_rate=0.37),
        _client("shrink", 0.3, harmful=False, malicious_rejected=0.0, accuracy=0.90),
        _client("inflate", 0.3, honest_rejected=0.06, malicious_reward_share=0.25),
        _miner(2, 34, 1),
        _miner(2, 0, 200, "lazy"),
        _miner(1, 3, 1),
    ]
    result = tmp_path / "robustness.json"
    result.write_text(json.dumps({"cells": cells, "wall_s": 1.0, "quick": False}))
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(result), "--out", str(tmp_path / "docs")],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line for line in run.stdout.splitlines() if line.startswith("| digits")]
    verdicts = [line.split("|")[-2].strip() for line in rows]
    assert verdicts == [
        "met",
        "",
        "**not met**: rejected, trigger",
        "**not met**: accuracy",
        "**not met**: honest rejected, reward",
        "**not met**: decisions",
        "**not met**: reputation",
        "",
    ]
    assert "`shrink` (harmless)" in rows[3]
    assert "| 0.370 |" in rows[2] and "| — |" in rows[0]  # trigger success: backdoor only
    assert "| `label-flip:0.3` | 90.0 % |" in rows[5]
    svg = (tmp_path / "docs" / "robustness-digits.svg").read_text()
    assert svg.startswith("<svg") and "label-flip" in svg


def test_results_merge_cell_by_cell_the_later_winning(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text(json.dumps({"cells": [_client("label-flip", 0.3), _miner(2, 34, 1)]}))
    streamed = tmp_path / "streamed.err"  # what a run streams to stderr, noise included
    lines = [json.dumps(_miner(2, 0, 1)), "a warning", json.dumps(_client("noise", 0.3))]
    streamed.write_text("\n".join(lines) + "\n")
    merged = tmp_path / "all.json"
    args = [str(first), str(streamed), "--out", str(tmp_path), "--merged", str(merged)]
    subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    cells = json.loads(merged.read_text())["cells"]
    assert [(c["attack"], c.get("decisions_changed")) for c in cells] == [
        ("label-flip", None),
        ("inverted-scores", 0),
        ("noise", None),
    ]
