"""A client killed and started again replays the finished rounds, then rejoins the task."""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest
from e2e_helpers import events_of, small_spec, when_round_opens

from flchain.run.orchestrator import RunResult
from flchain.run.procs import ChildSet
from flchain.run.setup import Phases, Task

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _kill_and_restart(children: ChildSet, task: Task) -> None:
    def restart() -> None:
        children.kill("client-1", signal.SIGKILL)
        children.spawn("client-1-again", children.children["client-1"].argv[3:])

    when_round_opens(children, "client-1", 1, restart)


def test_restarted_client_catches_up(run_e2e: Callable[..., RunResult]) -> None:
    result = run_e2e(
        small_spec(clients=3, miners=2, rounds=5),
        # A round closes as soon as every client has submitted, so a long submit window
        # costs nothing unless the restarted client is slow to start (a loaded machine).
        phases=Phases(submit=45, commit=10, reveal=5),
        on_started=_kill_and_restart,
    )
    codes = result.summary["exit_codes"]
    assert codes["client-1"] == -signal.SIGKILL and codes["client-1-again"] == 0
    assert [r.round for r in result.reports] == [0, 1, 2, 3, 4]
    events = events_of(result.out, "client-1")
    restarted_at = [e["t"] for e in events if e["event"] == "registered"][-1]
    rejoined = [e["round"] for e in events if e["event"] == "submitted" and e["t"] > restarted_at]
    assert rejoined and min(rejoined) >= 1
    verified = {e["round"]: e["cid"] for e in events if e["event"] == "verified"}
    assert verified == {r.round: r.certified_cid for r in result.reports}
    assert all(e["t"] >= restarted_at for e in events if e["event"] == "verified")
    assert not [e for e in events if e["event"] == "aggregate_mismatch"]
