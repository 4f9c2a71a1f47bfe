"""``flchain build --check`` reports fresh artifacts, and stale ones with exit status 1."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from flchain.cli import app
from flchain.cli import build as build_cli


def test_build_check_on_the_checkout() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from flchain.cli import main; main()", "build", "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "artifacts are up to date" in out.stdout


def test_build_check_names_stale_artifacts(monkeypatch: object) -> None:
    import flchain.chain.build as chain_build

    monkeypatch.setattr(chain_build, "stale_artifacts", lambda: ["FLToken"])  # type: ignore[attr-defined]
    build_cli.register(app)
    result = CliRunner().invoke(app, ["build", "--check"])
    assert result.exit_code == 1
    assert "stale artifacts: FLToken" in result.output
