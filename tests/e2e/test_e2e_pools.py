"""Client pools: many clients per process, each still a whole party on chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import events_of, metrics_of, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _check_every_client_verified(
    out: Path, clients: int, rounds: int, min_accepted: float = 1.0
) -> dict[str, object]:
    summary: dict[str, object] = json.loads((out / "summary.json").read_text())
    rows = metrics_of(out)
    assert [row["round"] for row in rows] == list(range(rounds))
    certified = [row["certified_cid"] for row in rows]
    assert all(certified)
    for row in rows:
        assert row["submitted"] == clients
        assert row["accepted"] >= min_accepted * clients
        assert row["accepted"] + row["rejected"] == clients
    addresses = set()
    for i in range(clients):
        events = events_of(out, f"client-{i}")
        verified = {e["round"]: e["cid"] for e in events if e["event"] == "verified"}
        assert verified == dict(enumerate(certified)), f"client {i}"
        assert [e for e in events if e["event"] == "done"] == [
            e for e in events if e["event"] == "done" and e["mismatches"] == 0
        ]
        addresses.add(next(e["address"] for e in events if e["event"] == "started"))
    assert len(addresses) == clients  # every client signs with its own account
    assert summary["aggregate_mismatches"] == []
    return summary


def test_two_hundred_clients_in_two_pools(tmp_path: Path) -> None:
    """200 parties with their own accounts in 2 processes; each pool aggregates once a round."""
    args = ("--clients", "200", "--miners", "3", "--rounds", "2", "--client-procs", "2")
    data = ("--dataset", "mnist1d-8000", "--local-epochs", "1")  # about 30 examples each
    done = run_cli(tmp_path, *args, *data, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "cli-run"
    summary = _check_every_client_verified(out, 200, 2, min_accepted=0.9)
    assert summary["exit_codes"] == {
        "miner-0": 0,
        "miner-1": 0,
        "miner-2": 0,
        "clients-0-99": 0,
        "clients-100-199": 0,
    }
    events = [e for i in range(200) for e in events_of(out, f"client-{i}")]
    assert len({e["pool"] for e in events if "pool" in e}) == 2  # two processes hosted them
    aggregated = [e for e in events if e["event"] == "aggregated"]
    for r in range(2):  # one computation per pool and round, shared by its other 99 clients
        this_round = [e for e in aggregated if e["round"] == r]
        assert len(this_round) == 200
        assert sum(not e.get("shared") for e in this_round) == 2


def test_twelve_miners_and_forty_clients(tmp_path: Path) -> None:
    """Past the nine miners and thirty clients a 40-account node funds: the run funds the rest."""
    args = ("--clients", "40", "--miners", "12", "--committee", "3", "--rounds", "1")
    done = run_cli(tmp_path, *args, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = _check_every_client_verified(tmp_path / "cli-run", 40, 1)
    codes = summary["exit_codes"]
    assert isinstance(codes, dict) and set(codes.values()) == {0}
    assert {f"miner-{j}" for j in range(12)} <= set(codes)
    parties = summary["parties"]
    assert isinstance(parties, dict) and len(parties) == 52


def test_a_flower_app_runs_in_client_pools(tmp_path: Path) -> None:
    """The app's copy reaches every pool (checked by its CID) and its clients train through it."""
    app = ("--app", str(EXAMPLES / "flower-mnist1d"))
    args = ("--clients", "4", "--miners", "2", "--rounds", "1", "--client-procs", "2")
    done = run_cli(tmp_path, *app, *args, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "cli-run"
    summary = _check_every_client_verified(out, 4, 1)
    assert summary["exit_codes"] == {"miner-0": 0, "miner-1": 0, "clients-0-1": 0, "clients-2-3": 0}
    for i in range(4):
        (trained,) = [e for e in events_of(out, f"client-{i}") if e["event"] == "trained"]
        assert trained["round"] == 0 and trained["loss"] > 0
