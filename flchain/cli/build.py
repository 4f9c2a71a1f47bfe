"""``flchain build``: compile the contracts into ``flchain/chain/artifacts/``.

Prints one line per artifact written and the compiler used; ``--check`` only
reports whether the committed artifacts match the sources (no compiler needed).
"""

from __future__ import annotations

from typing import Annotated

import typer

from flchain.exceptions import FLchainError


def build(
    check: Annotated[
        bool, typer.Option("--check", help="Only verify the artifacts are fresh; exit 1 if not")
    ] = False,
) -> None:
    """Compile contracts/ with the pinned solc (native via py-solc-x, else npm solc)."""
    from flchain.chain.build import build as run_build
    from flchain.chain.build import stale_artifacts

    try:
        if check:
            stale = stale_artifacts()
            if stale:
                typer.echo(f"stale artifacts: {', '.join(stale)} (run `flchain build`)", err=True)
                raise typer.Exit(1)
            typer.echo("artifacts are up to date")
            return
        result = run_build()
    except FLchainError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for path in result.artifacts:
        typer.echo(f"wrote {path}")
    typer.echo(f"compiler: solc {result.compiler}")


def register(app: typer.Typer) -> None:
    """Add the ``build`` command."""
    app.command("build")(build)
