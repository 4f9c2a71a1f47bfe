"""scripts/slither_gate.py: findings keyed by detector + contract + function, triaged or failing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def _function(contract: str, name: str) -> dict[str, Any]:
    parent = {"type": "contract", "name": contract}
    return {"type": "function", "name": name, "type_specific_fields": {"parent": parent}}


def _local(contract: str, function: str, name: str) -> dict[str, Any]:
    return {
        "type": "variable",
        "name": name,
        "type_specific_fields": {"parent": _function(contract, function)},
    }


def _finding(check: str, impact: str, element: dict[str, Any]) -> dict[str, Any]:
    return {
        "check": check,
        "impact": impact,
        "description": f"{check} here\nmore",
        "elements": [element],
    }


def _gate(
    repo_root: Path, tmp_path: Path, findings: list[dict[str, Any]], triage: list[dict[str, str]]
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "triage.json"
    path.write_text(json.dumps(triage))
    report = {"success": True, "error": None, "results": {"detectors": findings}}
    return subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "slither_gate.py"), str(path)],
        input=json.dumps(report),
        capture_output=True,
        text=True,
        check=False,
    )


def test_triaged_findings_pass_and_untriaged_fail(repo_root: Path, tmp_path: Path) -> None:
    findings = [
        _finding("timestamp", "Low", _function("FLProtocol", "_phase")),
        _finding("uninitialized-local", "Medium", _local("FLRegistry", "withdraw", "amount")),
        _finding("weak-prng", "High", _function("FLCommittee", "_drawCommittee")),
    ]
    triage = [
        {
            "detector": "timestamp",
            "contract": "FLProtocol",
            "function": "_phase",
            "reason": "by design",
        },
        {
            "detector": "uninitialized-local",
            "contract": "FLRegistry",
            "function": "withdraw",
            "reason": "zero default",
        },
        {"detector": "timestamp", "contract": "FLProtocol", "function": "gone", "reason": "stale"},
    ]
    proc = _gate(repo_root, tmp_path, findings, triage)
    assert proc.returncode == 1
    assert "3 findings (1 High, 1 Low, 1 Medium), 1 untriaged" in proc.stdout
    assert "UNTRIAGED [High] weak-prng in FLCommittee._drawCommittee: weak-prng here" in proc.stdout
    assert "stale triage entry (no such finding): timestamp / FLProtocol / gone" in proc.stdout
    assert _gate(repo_root, tmp_path, findings[:2], triage).returncode == 0


def test_reason_is_required_and_failed_runs_are_errors(repo_root: Path, tmp_path: Path) -> None:
    no_reason = [{"detector": "timestamp", "contract": "FLProtocol", "function": "_phase"}]
    proc = _gate(repo_root, tmp_path, [], no_reason)
    assert proc.returncode == 2 and "has no reason" in proc.stderr
    bad = subprocess.run(
        [
            sys.executable,
            str(repo_root / "scripts" / "slither_gate.py"),
            str(tmp_path / "triage.json"),
        ],
        input="",
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "did slither run?" in bad.stderr


def test_committed_triage_never_excuses_the_weak_prng(repo_root: Path) -> None:
    entries = json.loads((repo_root / "contracts" / "slither-triage.json").read_text())
    assert all(e["reason"].strip() for e in entries)
    assert not any(e["detector"] == "weak-prng" for e in entries)
