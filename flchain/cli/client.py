"""``flchain client``: run one client of a task until its last round."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flchain.party.behaviours import CLIENT_BEHAVIOURS


def register(app: typer.Typer) -> None:
    app.command("client")(client)


def client(
    index: Annotated[int, typer.Option("--index", help="Client index (account 10 + index).")],
    testnet: Annotated[Path, typer.Option(help="testnet.json of the running node.")] = Path(
        ".flchain/testnet.json"
    ),
    task: Annotated[str | None, typer.Option(help="Task contract (default: testnet's).")] = None,
    store: Annotated[str | None, typer.Option(help="Local store directory.")] = None,
    kubo: Annotated[str | None, typer.Option(help="Kubo RPC URL instead of a local store.")] = None,
    behaviour: Annotated[str, typer.Option(help="|".join(CLIENT_BEHAVIOURS))] = "honest",
    log_dir: Annotated[Path | None, typer.Option(help="Where to write event logs.")] = None,
) -> None:
    """Register, then train, pin, submit, aggregate and verify every round."""
    if behaviour not in CLIENT_BEHAVIOURS:
        raise typer.BadParameter(f"unknown behaviour {behaviour!r}; use {CLIENT_BEHAVIOURS}")
    from clients.client import Client
    from flchain.party.child import run_child

    raise typer.Exit(run_child(Client, index, behaviour, testnet, task, store, kubo, log_dir))
