"""``flchain client`` and ``flchain miner``: run one party of a task until its last round."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flchain.party.behaviours import CLIENT_BEHAVIOURS, MINER_BEHAVIOURS

Testnet = Annotated[Path, typer.Option(help="testnet.json of the running node.")]
Task = Annotated[str | None, typer.Option(help="Task contract (default: testnet's).")]
Store = Annotated[str | None, typer.Option(help="Local store directory.")]
Kubo = Annotated[str | None, typer.Option(help="Kubo RPC URL instead of a local store.")]
LogDir = Annotated[Path | None, typer.Option(help="Where to write event logs.")]
App = Annotated[
    Path | None, typer.Option(help="Local copy of the task's Flower app (checked by its CID).")
]
DEFAULT_TESTNET = Path(".flchain/testnet.json")


def register(app: typer.Typer) -> None:
    app.command("client")(client)
    app.command("miner")(miner)


def client(
    index: Annotated[int, typer.Option("--index", help="Client index (account 10 + index).")],
    testnet: Testnet = DEFAULT_TESTNET,
    task: Task = None,
    store: Store = None,
    kubo: Kubo = None,
    behaviour: Annotated[str, typer.Option(help="honest, plagiarist or an attack")] = "honest",
    log_dir: LogDir = None,
    app: App = None,
) -> None:
    """Register, then train, pin, submit, aggregate and verify every round."""
    from clients.client import Client

    _run(Client, CLIENT_BEHAVIOURS, index, behaviour, testnet, task, store, kubo, log_dir, app)


def miner(
    index: Annotated[int, typer.Option("--index", help="Miner index (account 1 + index).")],
    testnet: Testnet = DEFAULT_TESTNET,
    task: Task = None,
    store: Store = None,
    kubo: Kubo = None,
    behaviour: Annotated[str, typer.Option(help="|".join(MINER_BEHAVIOURS))] = "honest",
    log_dir: LogDir = None,
    app: App = None,
) -> None:
    """Register, then score, vote, finalize and attest every round."""
    from miners.miner import Miner

    _run(Miner, MINER_BEHAVIOURS, index, behaviour, testnet, task, store, kubo, log_dir, app)


def _run(kind: type, known: tuple[str, ...], index: int, behaviour: str, *where: object) -> None:
    """Check the behaviour (before importing torch), then run the party to its end."""
    if behaviour not in known:
        raise typer.BadParameter(f"unknown behaviour {behaviour!r}; use {', '.join(known)}")
    from flchain.party.child import run_child

    raise typer.Exit(run_child(kind, index, behaviour, *where))  # type: ignore[arg-type]
