"""The Ray engine on a real local Ray: hosts run the CLI in actors, exits and crashes are
reported like a process's, kill and stop end the actors' processes."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flchain.run.procs import ProcessChild
from flchain.run.rayengine import ActorChild, RayEngine, require_ray, start_ray

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]  # one worker starts one Ray


@pytest.fixture(scope="module")
def ray() -> Iterator[Any]:
    """One local Ray for the module, started as the engine starts its own."""
    ray = require_ray()
    start_ray(ray, None)
    yield ray
    ray.shutdown()


@pytest.fixture
def silent_node(tmp_path: Path) -> Iterator[Path]:
    """A testnet file whose node accepts connections and never answers: a party that joins it
    waits (for its 30 s request timeout)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        path = tmp_path / "testnet.json"
        record = {"rpc_url": f"http://127.0.0.1:{server.getsockname()[1]}", "mnemonic": "m"}
        path.write_text(json.dumps(record))
        yield path


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_actors_run_the_cli_and_exits_and_crashes_are_reported(ray: Any, tmp_path: Path) -> None:
    with RayEngine(tmp_path, miners=False) as engine:
        assert not engine.started_here and engine.cores() == 2
        usage = engine.spawn("client-help", ["client", "--help"])
        crash = engine.spawn("client-0", ["client", "--index", "0", "--testnet", "/no/such.json"])
        local = engine.spawn("miner-0", ["miner", "--help"])
        assert isinstance(usage, ActorChild) and isinstance(crash, ActorChild)
        assert isinstance(local, ProcessChild)
        assert engine.wait_all(120)
        exited = sorted(c.name for c in engine.newly_exited())
        assert exited == ["client-0", "client-help", "miner-0"]
        assert (usage.returncode, crash.returncode, local.returncode) == (0, 2, 0)
        assert "Usage: flchain client" in usage.output.read_text()
        assert "/no/such.json" in crash.tail(1)  # the party's own error line, as from a process
        placed = engine.describe()["actors"]
        assert placed["client-0"]["pid"] != placed["client-help"]["pid"] != os.getpid()
        assert engine.banner().startswith("engine: Ray at ")


def test_kill_and_stop_end_the_actors(ray: Any, tmp_path: Path, silent_node: Path) -> None:
    waiting = ["client-pool", "--indices", "0-1", "--testnet", str(silent_node)]
    with RayEngine(tmp_path / "logs", miners=True) as engine:
        victim = engine.spawn("clients-0-1", [*waiting, "--task", "0x" + "11" * 20])
        other = engine.spawn("miner-0", ["miner", "--index", "0", "--testnet", str(silent_node)])
        assert isinstance(victim, ActorChild) and isinstance(other, ActorChild)
        pids = {n: p["pid"] for n, p in engine.describe()["actors"].items()}
        time.sleep(1.0)
        assert [c.name for c in engine.running()] == ["clients-0-1", "miner-0"]
        engine.kill("clients-0-1")
        deadline = time.monotonic() + 30
        while victim.returncode is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert victim.returncode == -9
        assert [c.name for c in engine.newly_exited()] == ["clients-0-1"]
        assert "died" not in victim.tail()  # killed on purpose: no crash note
    assert other.returncode == -9  # stopped with the engine
    deadline = time.monotonic() + 30
    while not all(_gone(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(p) for p in pids.values())


def test_an_actor_that_dies_is_reported_as_killed_with_rays_reason(
    ray: Any, tmp_path: Path, silent_node: Path
) -> None:
    with RayEngine(tmp_path, miners=False) as engine:
        child = engine.spawn("client-3", ["client", "--index", "3", "--testnet", str(silent_node)])
        assert isinstance(child, ActorChild)
        pid = ray.get(child.placed, timeout=60)["pid"]
        os.kill(pid, 9)  # as if the worker ran out of memory, or its node were lost
        assert engine.wait_all(60)
        assert child.returncode == -9
        assert child.tail(1).startswith("the Ray actor hosting client-3 died: ")
