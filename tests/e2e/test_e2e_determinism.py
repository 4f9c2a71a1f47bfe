"""The same task run twice with the same seed certifies the same CIDs, round for round."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_helpers import small_spec

from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_same_seed_same_certified_cids(run_e2e: Callable[..., RunResult]) -> None:
    spec = small_spec(clients=3, miners=3, rounds=2, seed=7)
    first = run_e2e(spec)
    second = run_e2e(spec)
    cids = [r.certified_cid for r in first.reports]
    assert len(cids) == 2 and all(cids)
    assert [r.certified_cid for r in second.reports] == cids
    assert first.summary["task"]["spec_cid"] == second.summary["task"]["spec_cid"]
    assert first.summary["final_accuracy"] == second.summary["final_accuracy"]
