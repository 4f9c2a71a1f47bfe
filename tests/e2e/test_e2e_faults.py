"""Faults do not stall rounds: a client killed mid-round, a committee miner that never reveals."""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest
from e2e_helpers import events_of, small_spec, when_round_opens

from flchain.run.orchestrator import RunResult
from flchain.run.procs import ChildSet
from flchain.run.setup import Phases, Task

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _kill_when_training_round_1(children: ChildSet, task: Task) -> None:
    """SIGKILL client-3 as soon as round 1 opens for it (it is then training)."""
    when_round_opens(children, "client-3", 1, lambda: children.kill("client-3", signal.SIGKILL))


def test_killed_client_and_silent_miner(run_e2e: Callable[..., RunResult]) -> None:
    result = run_e2e(
        small_spec(clients=4, miners=3, rounds=3),
        miner_behaviours={2: "no-reveal"},
        phases=Phases(submit=12, commit=12, reveal=6),
        on_started=_kill_when_training_round_1,
    )
    summary = result.summary
    assert summary["exit_codes"]["client-3"] == -signal.SIGKILL
    assert {n: c for n, c in summary["exit_codes"].items() if n != "client-3"} == dict.fromkeys(
        ["miner-0", "miner-1", "miner-2", "client-0", "client-1", "client-2"], 0
    )
    reports = result.reports
    assert [r.round for r in reports] == [0, 1, 2]
    victim = summary["parties"]["client-3"]["address"]
    last = reports[-1]
    assert last.outcome is not None
    assert victim not in {u.client for u in last.outcome.updates}  # it is gone ...
    assert last.accepted == last.submitted >= 2 and last.certified_cid  # ... and no one waits
    assert reports[0].outcome is not None and reports[0].outcome.num_reveals == 2
    assert all(r.accepted > 0 and r.certified_cid for r in reports)
    assert summary["slashed"] == ["miner-2"]
    silent = summary["parties"]["miner-2"]["address"]
    assert summary["bonds"][silent] < summary["bonds"][summary["parties"]["miner-0"]["address"]]
    assert summary["rewards"][silent] == 0
    committed = [e for e in events_of(result.out, "miner-2") if e["event"] == "committed"]
    revealed = [e for e in events_of(result.out, "miner-2") if e["event"] == "revealed"]
    assert committed and not revealed
    for i in range(3):
        events = events_of(result.out, f"client-{i}")
        assert {e["round"] for e in events if e["event"] == "verified"} == {0, 1, 2}
