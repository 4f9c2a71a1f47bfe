"""The Ray engine: client hosts (and optionally the miners) as actors on a Ray cluster.

``flchain run --engine ray [--ray-address ADDR] [--ray-miners]``. Without an
address (``--ray-address``, else Ray's own ``RAY_ADDRESS``) FLchain starts a
local Ray itself: :data:`LOCAL_RAY_CPUS` CPUs, no dashboard, a small object
store (the hosts pass no data through Ray: the parties reach the chain by its
RPC URL and the store by its path or Kubo URL), usage statistics off, and every
Ray process on 127.0.0.1. With an address it connects to that cluster (``ray
start --head`` / ``ray start --address``) and leaves it running at the end.

Each host is one actor (:class:`flchain.run.rayhost.PartyHost`) spread over the
nodes (``SPREAD``), asking Ray's default for an actor: one CPU to be placed,
none held while it runs, so a run places all its hosts at once, as the
process engine starts them all at once. The rest (the miners, unless
``--ray-miners``) are local processes of a :class:`ChildSet`. An actor whose
run returns has exited with that status; one that dies (its worker killed, its
node lost) is reported as killed (``-9``), with Ray's reason at the end of its
``.out``; stopping the engine kills every actor.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flchain.exceptions import ConfigError, RunError
from flchain.run.engine import LOCAL_RAY_CPUS, RAY, Child, Engine
from flchain.run.procs import THREAD_ENV, ChildSet
from flchain.run.rayhost import PartyHost

RAY_STARTUP_TIMEOUT = "timed out during startup"
"""Ray gives its raylet a fixed 30 s to register; a loaded machine can take longer: retried once."""
LOCAL_RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
"""No usage statistics; a single-node Ray whose node address is the loopback one (Ray's
own switch, read when ``ray`` is imported), so every Ray process listens on 127.0.0.1."""
LOCAL_OBJECT_STORE_BYTES = 100 * 2**20
"""Ray's smallest object store: the hosts exchange nothing through it."""
AUTH_HINT = (
    " (a cluster that `ray start` started checks a token: set RAY_AUTH_MODE=token here, "
    "with the cluster's token in ~/.ray/auth_token or RAY_AUTH_TOKEN)"
)
CLIENT_COMMANDS = ("client", "client-pool")
INSTALL_HINT = "pip install 'flchain[ray]'"


def require_ray(local: bool = True) -> Any:
    """The ``ray`` module (imported now, with usage statistics off, on the loopback address
    when ``local`` and not imported before); a :class:`ConfigError` naming the extra to install
    when it is missing."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if local and "ray" not in sys.modules:  # the switch is read once, when ray is imported
        for key, value in LOCAL_RAY_ENV.items():
            os.environ.setdefault(key, value)
    try:
        import ray
    except ImportError as exc:
        missing = f"--engine ray needs Ray, which is not installed: {INSTALL_HINT}"
        raise ConfigError(missing) from exc
    return ray


def start_ray(ray: Any, address: str | None) -> None:
    """Connect to the cluster at ``address``, or start a local Ray (no dashboard, fixed CPUs);
    Ray's own start-up timing out is retried once."""
    init: dict[str, Any] = {"log_to_driver": False}
    if address is None:  # "local": a new instance, even where `ray start` left one running
        init |= {"address": "local", "num_cpus": LOCAL_RAY_CPUS, "include_dashboard": False}
        init |= {"object_store_memory": LOCAL_OBJECT_STORE_BYTES}
    else:
        init["address"] = address
    for attempt in (1, 2):
        try:
            ray.init(**init)
            return
        except Exception as exc:  # Ray raises RuntimeError, ConnectionError, ValueError
            ray.shutdown()
            if attempt == 1 and startup_timed_out(exc):
                continue
            if address is None:
                raise RunError(f"could not start a local Ray: {exc}") from exc
            hint = "" if os.environ.get("RAY_AUTH_MODE") else AUTH_HINT
            raise RunError(
                f"could not connect to the Ray cluster at {address}: {exc}{hint}"
            ) from exc


def startup_timed_out(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is Ray's own start-up timing out, worth a retry."""
    while exc is not None:
        if RAY_STARTUP_TIMEOUT in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@dataclass
class ActorChild(Child):
    """A host running in a Ray actor: ``ref`` is its ``run`` call, ``placed`` its ``where``."""

    ray: Any
    actor: Any
    ref: Any
    placed: Any
    killed: bool = False
    status: int | None = field(default=None, init=False)

    @property
    def returncode(self) -> int | None:
        return self.poll()

    def poll(self) -> int | None:
        """The status once the actor's ``run`` has returned or the actor has died, else None."""
        if self.status is None:
            ready, _ = self.ray.wait([self.ref], timeout=0)
            if ready:
                self.status = self._collect()
        return self.status

    def _collect(self) -> int:
        try:
            return int(self.ray.get(self.ref))
        except self.ray.exceptions.RayActorError as exc:
            if not self.killed:
                self._note(exc, "died")
            return -signal.SIGKILL
        except self.ray.exceptions.RayError as exc:
            self._note(exc, "failed")
            return 1

    def _note(self, exc: Exception, what: str) -> None:
        """Ray's account of the failure at the end of the host's output, then one line that
        says it (the line a crash report shows)."""
        first = next(iter(str(exc).strip().splitlines()), "")
        text = f"\n{exc}\nthe Ray actor hosting {self.name} {what}: {first}\n"
        with contextlib.suppress(OSError), self.output.open("a", encoding="utf-8") as out:
            out.write(text)

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(Exception):  # already dead, or its node gone
            self.ray.kill(self.actor, no_restart=True)


class RayEngine(Engine):
    """Client hosts (and, with ``miners``, the miners) as Ray actors; the rest as processes."""

    kind = RAY

    def __init__(self, log_dir: Path, address: str | None = None, miners: bool = False) -> None:
        super().__init__(log_dir)
        address = address or os.environ.get("RAY_ADDRESS") or None  # Ray's own convention
        self.ray = require_ray(local=address is None)
        self.miners = miners
        self.local = ChildSet(log_dir)
        started = time.monotonic()
        self.connected_here = not self.ray.is_initialized()
        """Whether this engine called ``ray.init`` (and so ends the connection at the end)."""
        self.started_here = self.connected_here and address is None
        """Whether this engine started the Ray instance it uses (a local one)."""
        if self.connected_here:
            start_ray(self.ray, address)
        self.startup_s = time.monotonic() - started
        self.host = self.ray.remote(PartyHost)

    def on_ray(self, args: list[str]) -> bool:
        """Whether ``flchain <args>`` runs as an actor (else as a local process)."""
        command = args[0] if args else ""
        return command in CLIENT_COMMANDS or (self.miners and command == "miner")

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        if not self.on_ray(args):
            return self._add(self.local.spawn(name, args, env))
        if name in self.children:
            raise ValueError(f"a child named {name!r} already exists")
        output = self.log_dir / f"{name}.out"
        placement = self.host.options(scheduling_strategy="SPREAD")
        actor = placement.remote({**THREAD_ENV, **(env or {})})
        placed = actor.where.remote()
        ref = actor.run.remote(args, str(output))
        return self._add(ActorChild(name, args, output, self.ray, actor, ref, placed))

    def _actors(self) -> list[ActorChild]:
        return [c for c in self.children.values() if isinstance(c, ActorChild)]

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        child = self.children[name]
        if isinstance(child, ActorChild):
            child.kill()
        else:
            self.local.kill(name, sig)

    def cores(self) -> int:
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def describe(self) -> dict[str, Any]:
        actors = {}
        for child in self._actors():
            try:
                actors[child.name] = self.ray.get(child.placed, timeout=10)
            except Exception:  # the actor died before it could say where it ran
                actors[child.name] = None
        return {
            "kind": self.kind,
            "address": self.ray.get_runtime_context().gcs_address,
            "started_here": self.started_here,
            "startup_s": round(self.startup_s, 3),
            "cluster_cpus": self.cores(),
            "actors": actors,
        }

    def banner(self) -> str:
        how = "started" if self.started_here else "connected"
        how += f" in {self.startup_s:.1f} s" if self.connected_here else " before the run"
        gcs = self.ray.get_runtime_context().gcs_address
        return f"engine: Ray at {gcs} ({how}, {self.cores()} CPUs)"

    def stop(self, grace: float = 5.0) -> None:
        """Kill every actor (its status kept if it had ended), stop the local processes, and
        leave Ray (a local Ray this engine started stops with it)."""
        actors = self._actors()
        for child in actors:
            child.poll()  # keep the status of every actor that has ended
        for child in actors:  # a finished actor still holds a worker process
            child.kill()
        pending = [c.ref for c in actors if c.status is None]
        if pending:
            self.ray.wait(pending, num_returns=len(pending), timeout=grace)
        for child in actors:
            if child.returncode is None:
                child.status = -signal.SIGKILL
        self.local.stop(grace)
        if self.connected_here:
            self.ray.shutdown()
            self.connected_here = False
