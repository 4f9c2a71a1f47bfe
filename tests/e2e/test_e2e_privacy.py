"""Differential privacy through real processes: clients clip and noise, miners accept honest
private updates, ε is reported per client, and the audit recomputes it and verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import accepted_rows, assert_exited_cleanly, small_run_then_audit, verified_report

from flchain.learning import dp

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CLIP, NOISE, DELTA = 1.0, 0.05, 1e-5


def test_a_private_run_is_accepted_reports_epsilon_and_the_audit_recomputes_it(
    tmp_path: Path,
) -> None:
    dp_args = ("--dp-clip", str(CLIP), "--dp-noise", str(NOISE))
    done, audit, shown = small_run_then_audit(tmp_path, *dp_args, plain_audit=True)
    out = tmp_path / "run"
    spec = json.loads((out / "spec.json").read_text())
    assert spec["dp"] == {
        "clip": CLIP,
        "noise_multiplier": NOISE,
        "delta": DELTA,
        "target_epsilon": 0.0,
    }
    one, two = (round(dp.epsilon(1.0, NOISE, n, DELTA)[0], 6) for n in (1, 2))
    rows = accepted_rows(out, rounds=2, accepted=3)
    assert [set(row["dp_epsilon"].values()) for row in rows] == [{one}, {two}]
    summary = json.loads(done.stdout)
    clients = {f"client-{i}" for i in range(3)}
    assert summary["dp"]["epsilon"] == dict.fromkeys(clients, two)
    assert summary["dp"]["max_epsilon"] == two
    assert summary["final_accuracy"] > summary["initial_accuracy"] + 0.2
    assert_exited_cleanly(summary)
    print(
        f"dp clip {CLIP} noise {NOISE}: accuracy {summary['initial_accuracy']:.3f} -> "
        f"{[row['accuracy'] for row in rows]}, ε {one:.3f} then {two:.3f} (δ {DELTA})"
    )

    report = verified_report(audit)
    assert report["summary"]["flagged"] == 0  # the auditor's own scoring accepts them too
    privacy = report["privacy"]
    assert privacy["epsilon"] == rows[-1]["dp_epsilon"]
    assert privacy["epsilon_by_round"] == {str(r["round"]): r["dp_epsilon"] for r in rows}
    assert f"recomputed ε ≤ {two:.3f}" in shown.stdout and "VERIFIED" in shown.stdout
