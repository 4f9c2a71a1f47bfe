#!/usr/bin/env python3
"""Check `forge coverage` line and branch coverage of the contracts against minimums.

Usage: ``python scripts/coverage_gate.py LCOV_FILE MIN_LINES_PCT MIN_BRANCHES_PCT``

Counts every source under ``contracts/`` except the Foundry tests (``contracts/test/``).
"""

from __future__ import annotations

import sys
from pathlib import Path


def totals(lcov: str) -> tuple[int, int, int, int]:
    """(lines found, lines hit, branches found, branches hit) of the contract sources."""
    counts = {"LF": 0, "LH": 0, "BRF": 0, "BRH": 0}
    counted = False
    for line in lcov.splitlines():
        if line.startswith("SF:"):
            source = line[3:]
            counted = source.startswith("contracts/") and not source.startswith("contracts/test/")
        elif counted and ":" in line and line.split(":", 1)[0] in counts:
            key, value = line.split(":", 1)
            counts[key] += int(value)
    return counts["LF"], counts["LH"], counts["BRF"], counts["BRH"]


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    lf, lh, brf, brh = totals(Path(argv[1]).read_text(encoding="utf-8"))
    if lf == 0:
        print(f"coverage gate: no contracts/ sources in {argv[1]}", file=sys.stderr)
        return 2
    lines, branches = 100.0 * lh / lf, 100.0 * brh / brf if brf else 100.0
    print(f"contracts/ coverage: lines {lines:.2f}% ({lh}/{lf}),", end=" ")
    print(f"branches {branches:.2f}% ({brh}/{brf})")
    ok = lines >= float(argv[2]) and branches >= float(argv[3])
    if not ok:
        print(f"coverage gate: below the minimum of {argv[2]}% lines / {argv[3]}% branches")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
