"""Two backdoor clients are rejected by the cluster signal, through real processes:
the logged reason names the signal, they earn nothing, and the certified model
does not answer to the trigger."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_helpers import events_of, small_spec

from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_backdoor_clients_are_rejected_by_the_cluster_signal(
    run_e2e: Callable[..., RunResult],
) -> None:
    result = run_e2e(small_spec(clients=6, miners=3, rounds=2), malicious="backdoor:2")
    summary = result.summary
    assert summary["rejected_by_behaviour"].get("backdoor", 0) == 4
    assert summary["rejected_by_behaviour"].get("honest", 0) == 0
    # no honest update was rejected (counted on chain, by author), and every
    # committee member rejected exactly two updates a round, by the cluster signal
    scored = [
        e for j in range(3) for e in events_of(result.out, f"miner-{j}") if e["event"] == "scored"
    ]
    assert len(scored) == 2 * 3
    for event in scored:
        kinds = sorted(reason.split(":")[0] for reason in event["reasons"])
        assert kinds == ["accepted"] * 4 + ["cluster"] * 2, event["reasons"]
        assert all(
            r.startswith("cluster: one of 2 updates") for r in event["reasons"] if r[0] == "c"
        )
    clients = {n: p for n, p in summary["parties"].items() if n.startswith("client")}
    rewards = {p["behaviour"]: [] for p in clients.values()}
    for p in clients.values():
        rewards[p["behaviour"]].append(summary["rewards"][p["address"]])
    assert max(rewards["backdoor"]) == 0 < min(rewards["honest"])
    assert summary["attack_success_rate"] <= 0.1
    assert summary["aggregate_mismatches"] == []
