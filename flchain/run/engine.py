"""Where a run's parties execute: the engine that starts, watches and stops them.

The orchestrator sees only :class:`Engine`: ``spawn(name, args)`` starts
``flchain <args>`` as party host ``name`` (a client, a client pool or a miner),
and the engine reports which hosts have exited, with what status and the tail of
their output (``logs/<name>.out``), kills one, or stops them all. Two engines:

* ``process`` (:class:`flchain.run.procs.ChildSet`): every host is an OS process
  on this machine;
* ``ray`` (:class:`flchain.run.rayengine.RayEngine`): the client hosts (and, with
  ``--ray-miners``, the miners) are Ray actors on a Ray cluster, each running the
  same command in its own worker process; the rest stay local processes.

Monitoring, the progress table, crash reports, Ctrl-C and the per-party logs are
the orchestrator's, the same for both.
"""

from __future__ import annotations

import os
import signal
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flchain.exceptions import ConfigError
from flchain.types import Closing

PROCESS = "process"
RAY = "ray"
ENGINES = (PROCESS, RAY)
LOCAL_RAY_CPUS = 2
"""The CPUs a Ray instance that FLchain starts itself declares (fixed: the machine is shared)."""


@dataclass
class Child(ABC):
    """One party host: ``flchain <args>`` running as ``name``, its output in ``output``."""

    name: str
    args: list[str]
    output: Path
    reported: bool = field(default=False, kw_only=True)

    @property
    @abstractmethod
    def returncode(self) -> int | None:
        """The exit status once the host has ended (negative: killed by that signal), else None."""

    def tail(self, lines: int = 5) -> str:
        """Last lines of the host's output, for crash reports."""
        try:
            text = self.output.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


class Engine(Closing, ABC):
    """A group of party hosts that are all stopped together (leaving a ``with`` block)."""

    kind = PROCESS

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, Child] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        """Start ``flchain <args>`` as host ``name``, with ``env`` added to its environment."""

    @abstractmethod
    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """End host ``name`` now (a process gets ``sig``; an actor is killed)."""

    @abstractmethod
    def stop(self, grace: float = 5.0) -> None:
        """End every host still running (politely first where the engine can), then release."""

    def cores(self) -> int:
        """The CPUs the hosts share: how many client pools a run makes by default."""
        return os.cpu_count() or 1

    def describe(self) -> dict[str, Any]:
        """What the run's summary records about the engine."""
        return {"kind": self.kind}

    def banner(self) -> str | None:
        """A line for the console when the run starts (None: nothing worth saying)."""
        return None

    def _add(self, child: Child) -> Child:
        if child.name in self.children:
            raise ValueError(f"a child named {child.name!r} already exists")
        self.children[child.name] = child
        return child

    def newly_exited(self) -> list[Child]:
        """Hosts that exited since the last call."""
        done = []
        for child in self.children.values():
            if not child.reported and child.returncode is not None:
                child.reported = True
                done.append(child)
        return done

    def running(self) -> list[Child]:
        return [c for c in self.children.values() if c.returncode is None]

    def wait_all(self, timeout: float) -> bool:
        """Wait until every host has exited; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self) -> None:
        """Stop every host (leaving a ``with`` block does this)."""
        self.stop()


@dataclass(frozen=True)
class EngineOptions:
    """``--engine``, ``--ray-address`` and ``--ray-miners``, checked together."""

    kind: str = PROCESS
    ray_address: str | None = None
    """An existing Ray cluster (``auto``, ``HOST:PORT``); None: start a local one."""
    ray_miners: bool = False
    """Place the miners on Ray too (by default they stay processes beside the chain node)."""

    def __post_init__(self) -> None:
        if self.kind not in ENGINES:
            raise ConfigError(f"unknown engine {self.kind!r}; use {' or '.join(ENGINES)}")
        if self.kind != RAY and self.ray_address is not None:
            raise ConfigError("--ray-address needs --engine ray")
        if self.kind != RAY and self.ray_miners:
            raise ConfigError("--ray-miners needs --engine ray")

    def check(self) -> None:
        """Fail now, before anything starts, when the engine cannot run here."""
        if self.kind == RAY:
            from flchain.run.rayengine import require_ray

            require_ray()


def open_engine(options: EngineOptions, log_dir: Path) -> Engine:
    """The engine ``options`` name, started (a Ray engine connects to or starts Ray)."""
    if options.kind == RAY:
        from flchain.run.rayengine import RayEngine

        return RayEngine(log_dir, options.ray_address, options.ray_miners)
    from flchain.run.procs import ChildSet

    return ChildSet(log_dir)
