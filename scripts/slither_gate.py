#!/usr/bin/env python3
"""Fail on any Slither finding that the triage file does not justify.

Usage: ``slither . --json - | python scripts/slither_gate.py contracts/slither-triage.json``

A finding is keyed by detector + contract + function (not by line, so edits elsewhere in a
file keep the triage valid). The triage file is a JSON list of objects with those three keys
and a one-line ``reason``. Exit status: 0 when every finding is triaged, 1 otherwise (each
untriaged finding is printed), 2 on unreadable input. Triage entries that no longer match a
finding are reported as stale but do not fail the gate.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

Key = tuple[str, str, str]


def _owner(element: dict[str, Any]) -> tuple[str, str]:
    """(contract, function) of one result element; function is "" for contract-level items."""
    kind = element.get("type", "")
    parent = element.get("type_specific_fields", {}).get("parent", {})
    if kind == "contract":
        return element.get("name", ""), ""
    if kind == "function":
        return parent.get("name", ""), element.get("name", "")
    if parent.get("type") == "function":  # a node or a local variable of a function
        grand = parent.get("type_specific_fields", {}).get("parent", {})
        return grand.get("name", ""), parent.get("name", "")
    return parent.get("name", ""), element.get("name", "")


def finding_key(result: dict[str, Any]) -> Key:
    """detector + contract + function of a Slither result (its first element locates it)."""
    elements = result.get("elements") or [{}]
    contract, function = _owner(elements[0])
    return result.get("check", ""), contract, function


def load_triage(path: Path) -> dict[Key, str]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    triage: dict[Key, str] = {}
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        if not reason:
            raise ValueError(f"{path}: triage entry {entry} has no reason")
        triage[(entry["detector"], entry["contract"], entry.get("function", ""))] = reason
    return triage


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        report = json.load(sys.stdin)
        triage = load_triage(Path(argv[1]))
    except (OSError, ValueError, KeyError) as exc:
        print(
            f"slither gate: unreadable input (did slither run? see its log): {exc}", file=sys.stderr
        )
        return 2
    if not report.get("success", False):
        print(f"slither gate: slither failed: {report.get('error')}", file=sys.stderr)
        return 2
    results = report.get("results", {}).get("detectors", [])
    keys = [finding_key(r) for r in results]
    impacts = Counter(str(r.get("impact", "?")) for r in results)
    untriaged = [(k, r) for k, r in zip(keys, results, strict=True) if k not in triage]
    summary = ", ".join(f"{n} {impact}" for impact, n in sorted(impacts.items()))
    print(f"slither: {len(results)} findings ({summary or 'none'}), {len(untriaged)} untriaged")
    for stale in sorted(set(triage) - set(keys)):
        print(f"  stale triage entry (no such finding): {' / '.join(stale)}")
    for (detector, contract, function), result in untriaged:
        where = f"{contract}.{function}" if function else contract
        first = str(result.get("description", "")).strip().splitlines()[0]
        print(f"  UNTRIAGED [{result.get('impact')}] {detector} in {where}: {first}")
    return 1 if untriaged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
