"""A whole task through the Ray engine: client pools and miners as actors on a local Ray
that the run starts itself, the chain and the store reached as by processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import (
    accepted_rows,
    assert_exited_cleanly,
    events_of,
    small_run_then_audit,
    verified_report,
)

# one Ray at a time
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("ray")]
CLIENTS, MINERS, ROUNDS = 6, 3, 2


def test_two_client_pools_and_three_miners_as_ray_actors(tmp_path: Path) -> None:
    task = ("--clients", str(CLIENTS), "--miners", str(MINERS), "--rounds", str(ROUNDS))
    ray = ("--client-procs", "2", "--engine", "ray", "--ray-miners")
    done, audit = small_run_then_audit(tmp_path, *ray, task=task)
    out = tmp_path / "run"
    summary = json.loads(done.stdout)
    rows = accepted_rows(out, rounds=ROUNDS, accepted=CLIENTS)
    assert all(row["certified_cid"] for row in rows)
    assert summary["initial_accuracy"] < rows[-1]["accuracy"]
    assert_exited_cleanly(summary)
    hosts = {"clients-0-2", "clients-3-5", *(f"miner-{j}" for j in range(MINERS))}
    assert set(summary["exit_codes"]) == hosts

    engine = summary["engine"]
    assert engine["kind"] == "ray" and engine["started_here"] is True
    assert engine["address"].startswith("127.0.0.1:") and engine["cluster_cpus"] == 2
    actors = engine["actors"]
    assert set(actors) == hosts  # every host ran as an actor, none as a process of the run
    for i in range(CLIENTS):  # each client ran inside its pool's actor process
        (started,) = [e for e in events_of(out, f"client-{i}") if e["event"] == "started"]
        assert started["pool"] == actors["clients-0-2" if i < 3 else "clients-3-5"]["pid"]
    assert "registered as client 4" in (out / "logs" / "clients-3-5.out").read_text()
    assert "finished" in (out / "logs" / "miner-2.out").read_text()

    report = verified_report(audit)
    finalized = [r for r in report["rounds"] if r["finalized"]]
    assert [r["certified_cid"] for r in finalized] == [row["certified_cid"] for row in rows]
    assert all(r["aggregate_status"] == "match" for r in finalized)
    print(
        f"ray engine: wall {summary['wall_s']:.1f} s, start-up {summary['startup_s']:.1f} s "
        f"(Ray {engine['startup_s']:.1f} s), accuracy {[row['accuracy'] for row in rows]}"
    )
