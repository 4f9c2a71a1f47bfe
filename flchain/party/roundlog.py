"""Structured event logs written by every child, read by the orchestrator.

Each child appends JSON lines to ``logs/<role>-<i>.jsonl``: one object per
event with ``t`` (unix seconds), ``role``, ``index``, ``event`` and the
event's fields (``round``, ``seconds``, ``gas`` ...). A human-readable log goes
beside it (``<role>-<i>.log``). Lines are flushed as they are written, so the
orchestrator can follow a run live, and a reader skips a torn last line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO


class EventLog:
    """Append-only JSON-lines event log plus a human log for one child."""

    def __init__(self, log_dir: Path | None, role: str, index: int) -> None:
        self.role = role
        self.index = index
        self.logger = logging.getLogger(f"flchain.{role}.{index}")
        self.logger.setLevel(logging.INFO)
        self._file: TextIO | None = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self._file = (log_dir / f"{role}-{index}.jsonl").open("a", encoding="utf-8")
            handler = logging.FileHandler(log_dir / f"{role}-{index}.log", encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            self.logger.addHandler(handler)

    def emit(self, event: str, **fields: Any) -> None:
        """Write one event line and flush it."""
        record = {"t": time.time(), "role": self.role, "index": self.index, "event": event}
        record.update(fields)
        if self._file is not None:
            self._file.write(json.dumps(record, sort_keys=True, default=str) + "\n")
            self._file.flush()

    @contextmanager
    def timed(self, event: str, **fields: Any) -> Iterator[dict[str, Any]]:
        """Time a block; emit ``event`` with ``seconds`` and whatever the block adds."""
        extra: dict[str, Any] = {}
        start = time.perf_counter()
        yield extra
        self.emit(event, seconds=round(time.perf_counter() - start, 6), **fields, **extra)

    def info(self, message: str, *args: Any) -> None:
        self.logger.info(message, *args)

    def warning(self, message: str, *args: Any) -> None:
        self.logger.warning(message, *args)

    def error(self, message: str, *args: Any) -> None:
        self.logger.error(message, *args)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        for handler in list(self.logger.handlers):
            handler.close()
            self.logger.removeHandler(handler)


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every complete event in a log file (a torn last line is skipped)."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            events.append(record)
    return events


def read_all_events(log_dir: Path) -> list[dict[str, Any]]:
    """Events of every child in ``log_dir``, ordered by time."""
    events: list[dict[str, Any]] = []
    for path in sorted(log_dir.glob("*.jsonl")):
        events.extend(read_events(path))
    return sorted(events, key=lambda e: float(e.get("t", 0.0)))
