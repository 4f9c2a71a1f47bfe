"""Client pools: many clients per process, each still a whole party on chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import events_of, metrics_of, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _check_every_client_verified(out: Path, clients: int, rounds: int) -> dict[str, object]:
    summary: dict[str, object] = json.loads((out / "summary.json").read_text())
    rows = metrics_of(out)
    assert [row["round"] for row in rows] == list(range(rounds))
    certified = [row["certified_cid"] for row in rows]
    assert all(certified)
    for row in rows:
        assert row["accepted"] == clients and row["rejected"] == 0
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


def test_twenty_clients_in_two_pools(tmp_path: Path) -> None:
    args = ("--clients", "20", "--miners", "3", "--rounds", "2", "--client-procs", "2")
    done = run_cli(tmp_path, *args, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "cli-run"
    summary = _check_every_client_verified(out, 20, 2)
    assert summary["exit_codes"] == {
        "miner-0": 0,
        "miner-1": 0,
        "miner-2": 0,
        "clients-0-9": 0,
        "clients-10-19": 0,
    }
    pools = {e["pool"] for i in range(20) for e in events_of(out, f"client-{i}") if "pool" in e}
    assert len(pools) == 2  # two processes hosted the twenty clients


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
