"""Proof-of-quality against misbehaving clients, through real processes.

A free-rider and a noise client are rejected every round and earn nothing; a
label-flipping client is rejected by the direction signal and earns less than
any honest client; two backdoor clients are rejected by the cluster signal, earn
nothing, and the certified model does not answer to the trigger. The logged
reasons name the signal.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_helpers import rewards_by_behaviour, scored_events, scored_reasons, small_spec

from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_free_rider_and_noise_are_rejected_every_round(
    run_e2e: Callable[..., RunResult],
) -> None:
    result = run_e2e(small_spec(clients=5, miners=3, rounds=3), malicious="free-rider:1,noise:1")
    summary = result.summary
    parties = summary["parties"]
    behaviour = {p["address"]: p["behaviour"] for p in parties.values()}
    assert sorted(behaviour[a] for a in behaviour if behaviour[a] != "honest") == [
        "free-rider",
        "noise",
    ]
    assert len(result.reports) == 3
    for report in result.reports:
        assert report.outcome is not None
        for update in report.outcome.updates:
            honest = behaviour[update.client] == "honest"
            assert update.accepted == honest, (report.round, behaviour[update.client])
    assert summary["rejected_by_behaviour"] == {"free-rider": 3, "noise": 3}
    assert summary["accepted_by_behaviour"] == {"honest": 9}
    clients = {n: p for n, p in parties.items() if n.startswith("client")}
    for name, party in clients.items():
        reward = summary["rewards"][party["address"]]
        if party["behaviour"] == "honest":
            assert reward > 0, name
        else:
            assert reward == 0, name
    reasons = scored_reasons(result.out, 3)
    assert any("free-riding" in r for r in reasons)
    # noise is caught by its size: far above the round's median change
    assert any(r.startswith("norm") for r in reasons if "free-riding" not in r)


def test_label_flip_is_rejected_by_the_direction_signal(
    run_e2e: Callable[..., RunResult],
) -> None:
    result = run_e2e(small_spec(clients=5, miners=3, rounds=3), malicious="label-flip:1")
    summary = result.summary
    assert summary["rejected_by_behaviour"].get("label-flip", 0) >= 2
    assert summary["rejected_by_behaviour"].get("honest", 0) == 0
    reasons = scored_reasons(result.out, 3)
    assert any(r.startswith("direction: cosine") for r in reasons)
    rewards = rewards_by_behaviour(summary)
    assert max(rewards["label-flip"]) < min(rewards["honest"])
    assert summary["aggregate_mismatches"] == []


def test_backdoor_clients_are_rejected_by_the_cluster_signal(
    run_e2e: Callable[..., RunResult],
) -> None:
    result = run_e2e(small_spec(clients=6, miners=3, rounds=2), malicious="backdoor:2")
    summary = result.summary
    assert summary["rejected_by_behaviour"].get("backdoor", 0) == 4
    assert summary["rejected_by_behaviour"].get("honest", 0) == 0
    # no honest update was rejected (counted on chain, by author), and every
    # committee member rejected exactly two updates a round, by the cluster signal
    scored = scored_events(result.out, 3)
    assert len(scored) == 2 * 3
    for event in scored:
        kinds = sorted(reason.split(":")[0] for reason in event["reasons"])
        assert kinds == ["accepted"] * 4 + ["cluster"] * 2, event["reasons"]
        assert all(
            r.startswith("cluster: one of 2 updates") for r in event["reasons"] if r[0] == "c"
        )
    rewards = rewards_by_behaviour(summary)
    assert max(rewards["backdoor"]) == 0 < min(rewards["honest"])
    assert summary["attack_success_rate"] <= 0.1
    assert summary["aggregate_mismatches"] == []
