"""Choosing the engine: the options are checked together, and Ray is imported only for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flchain_cli import run_flchain

from flchain.exceptions import ConfigError
from flchain.run.engine import PROCESS, RAY, EngineOptions, open_engine
from flchain.run.procs import ChildSet
from flchain.run.rayengine import INSTALL_HINT, require_ray


def test_ray_options_are_checked_together() -> None:
    chosen = EngineOptions(RAY, "127.0.0.1:6379", ray_miners=True)
    assert (chosen.kind, chosen.ray_address, chosen.ray_miners) == (RAY, "127.0.0.1:6379", True)
    with pytest.raises(ConfigError, match="--ray-address needs --engine ray"):
        EngineOptions(PROCESS, "127.0.0.1:6379")
    with pytest.raises(ConfigError, match="--ray-miners needs --engine ray"):
        EngineOptions(ray_miners=True)
    with pytest.raises(ConfigError, match="unknown engine 'dask'; use process or ray"):
        EngineOptions("dask")


def test_the_process_engine_is_the_default_and_imports_no_ray(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "import flchain.cli.run, flchain.run.orchestrator\n"
        "from flchain.run.engine import EngineOptions, open_engine\n"
        "options = EngineOptions(); options.check()\n"
        f"with open_engine(options, Path({str(tmp_path)!r})) as engine: print(engine.kind)\n"
        "print('ray' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [PROCESS, "False"]
    with open_engine(EngineOptions(), tmp_path) as engine:
        assert isinstance(engine, ChildSet) and engine.cores() >= 1


def test_a_missing_ray_is_named_with_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets without the extra
    with pytest.raises(ConfigError, match=r"needs Ray, which is not installed: pip install"):
        require_ray()
    with pytest.raises(ConfigError, match="flchain\\[ray\\]"):
        EngineOptions(RAY).check()
    assert INSTALL_HINT == "pip install 'flchain[ray]'"


def test_run_refuses_a_ray_address_without_the_ray_engine(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "h"), "--out", str(tmp_path / "r")]
    done = run_flchain("run", "--ray-address", "127.0.0.1:6379", *home, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert "--ray-address needs --engine ray" in done.stdout + done.stderr
    assert not (tmp_path / "h" / "testnet.json").exists()
