"""Metrics rows come from the children's event logs, written and read back."""

from __future__ import annotations

from pathlib import Path

from flchain.party.roundlog import EventLog, read_all_events
from flchain.run.metrics import gas_for_round, mismatches, phase_seconds


def test_events_round_trip_into_critical_path_phases(tmp_path: Path) -> None:
    a, b, m = (
        EventLog(tmp_path, "client", 0),
        EventLog(tmp_path, "client", 1),
        EventLog(tmp_path, "miner", 0),
    )
    a.emit("trained", round=0, seconds=2.0)
    b.emit("trained", round=0, seconds=3.0)
    b.emit("trained", round=1, seconds=9.0)
    a.emit("submitted", round=0, seconds=0.1, gas=47000)
    m.emit("committed", round=0, seconds=0.2, gas=60000)
    m.emit("revealed", round=0, seconds=0.3, gas=70000)
    with m.timed("scored", round=0) as extra:
        extra["scores"] = [1, 2]
    m.emit("aggregate_mismatch", round=0, local="bafyA", certified="bafyB")
    for log in (a, b, m):
        log.close()
    (tmp_path / "client-1.jsonl").open("a").write('{"torn": ')
    events = read_all_events(tmp_path)
    assert len(events) == 8
    phases = phase_seconds(events, 0)
    assert phases["train_s"] == 3.0
    assert phases["vote_s"] == 0.5
    assert phases["submit_s"] == 0.1
    assert phases["score_s"] >= 0.0 and phases["finalise_s"] == 0.0
    assert gas_for_round(events, 0) == 177000
    assert gas_for_round(events, 1) == 0
    assert [e["certified"] for e in mismatches(events)] == ["bafyB"]
    assert next(e for e in events if e["event"] == "scored")["scores"] == [1, 2]
