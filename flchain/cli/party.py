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
DEFAULT_TESTNET = Path(".flchain/testnet.json")


def register(app: typer.Typer) -> None:
    app.command("client")(client)
    app.command("client-pool")(client_pool)
    app.command("miner")(miner)


def client(
    index: Annotated[int, typer.Option("--index", help="Client index (account 10 + index).")],
    testnet: Testnet = DEFAULT_TESTNET,
    task: Task = None,
    store: Store = None,
    kubo: Kubo = None,
    behaviour: Annotated[str, typer.Option(help="honest, plagiarist or an attack")] = "honest",
    log_dir: LogDir = None,
) -> None:
    """Register, then train, pin, submit, aggregate and verify every round."""
    from clients.client import Client

    _run(Client, CLIENT_BEHAVIOURS, index, behaviour, testnet, task, store, kubo, log_dir)


def client_pool(
    indices: Annotated[str, typer.Option("--indices", help="Client indices: 0-99 or 0-9,20.")],
    testnet: Testnet = DEFAULT_TESTNET,
    task: Task = None,
    store: Store = None,
    kubo: Kubo = None,
    behaviours: Annotated[
        str, typer.Option(help="One behaviour per index, comma-separated (default: honest).")
    ] = "",
    compute_slots: Annotated[
        int, typer.Option(help="How many of the pool's clients train or aggregate at once.")
    ] = 1,
    log_dir: LogDir = None,
) -> None:
    """Many clients in one process, each its own party with its own account, in threads."""
    from flchain.exceptions import FLchainError
    from flchain.party.pool import parse_indices

    try:
        chosen = parse_indices(indices)
    except FLchainError as exc:
        raise typer.BadParameter(str(exc)) from exc
    kinds = [b.strip() for b in behaviours.split(",")] if behaviours else ["honest"] * len(chosen)
    if len(kinds) != len(chosen):
        raise typer.BadParameter(f"{len(kinds)} behaviours for {len(chosen)} clients")
    for kind in kinds:
        if kind not in CLIENT_BEHAVIOURS:
            raise typer.BadParameter(
                f"unknown behaviour {kind!r}; use {', '.join(CLIENT_BEHAVIOURS)}"
            )
    from clients.pooled import PooledClient
    from flchain.party.pool import run_pool

    where = (testnet, task, store, kubo, log_dir)
    raise typer.Exit(run_pool(PooledClient, chosen, kinds, *where, compute_slots=compute_slots))


def miner(
    index: Annotated[
        int, typer.Option("--index", help="Miner index (account 1 + index for the first nine).")
    ],
    testnet: Testnet = DEFAULT_TESTNET,
    task: Task = None,
    store: Store = None,
    kubo: Kubo = None,
    behaviour: Annotated[str, typer.Option(help="|".join(MINER_BEHAVIOURS))] = "honest",
    log_dir: LogDir = None,
) -> None:
    """Register, then score, vote, finalize and attest every round."""
    from miners.miner import Miner

    _run(Miner, MINER_BEHAVIOURS, index, behaviour, testnet, task, store, kubo, log_dir)


def _run(kind: type, known: tuple[str, ...], index: int, behaviour: str, *where: object) -> None:
    """Check the behaviour (before importing torch), then run the party to its end."""
    if behaviour not in known:
        raise typer.BadParameter(f"unknown behaviour {behaviour!r}; use {', '.join(known)}")
    from flchain.party.child import run_child

    raise typer.Exit(run_child(kind, index, behaviour, *where))  # type: ignore[arg-type]
