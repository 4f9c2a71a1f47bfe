"""When the chain certifies an aggregate that is not the true one, every client says so."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_helpers import events_of, small_spec

from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_colluding_miners_certify_a_forged_aggregate_and_clients_report_it(
    run_e2e: Callable[..., RunResult],
) -> None:
    result = run_e2e(
        small_spec(clients=3, miners=3, rounds=2),
        miner_behaviours={0: "wrong-aggregate", 1: "wrong-aggregate"},
    )
    summary = result.summary
    assert [r.round for r in result.reports] == [0, 1]
    certified = {r.round: r.certified_cid for r in result.reports}
    for i in range(3):
        events = events_of(result.out, f"client-{i}")
        found = {e["round"]: e for e in events if e["event"] == "aggregate_mismatch"}
        assert sorted(found) == [0, 1], f"client {i}"
        for r, e in found.items():
            assert e["certified"] == certified[r] != e["local"]
        assert summary["exit_codes"][f"client-{i}"] == 1
    reported = {(m["index"], m["round"]) for m in summary["aggregate_mismatches"]}
    assert reported == {(i, r) for i in range(3) for r in (0, 1)}
    honest_miner = [e for e in events_of(result.out, "miner-2") if e["event"] == "aggregated"]
    assert {e["cid"] for e in honest_miner} == {e["local"] for e in summary["aggregate_mismatches"]}
