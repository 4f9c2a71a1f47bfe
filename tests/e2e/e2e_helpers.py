"""Helpers shared by the end-to-end tests (specs, reading a run's logs and metrics)."""

from __future__ import annotations

import json
from typing import Any

from flchain.run.orchestrator import RunResult
from flchain.run.roundlog import read_events
from flchain.run.spec import TaskSpec


def small_spec(**overrides: Any) -> TaskSpec:
    """A digits task small enough for a few seconds per round on 2 shared cores."""
    base: dict[str, Any] = {
        "dataset": "digits",
        "partition": "iid",
        "seed": 0,
        "arch": "digits-mlp",
        "clients": 4,
        "miners": 3,
        "rounds": 3,
    }
    base.update(overrides)
    return TaskSpec(**base)


def events_of(result: RunResult, name: str) -> list[dict[str, Any]]:
    return read_events(result.out / "logs" / f"{name}.jsonl")


def metrics_of(result: RunResult) -> list[dict[str, Any]]:
    text = (result.out / "metrics.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]
