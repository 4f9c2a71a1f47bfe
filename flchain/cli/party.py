"""``flchain client``, ``flchain miner`` and ``flchain client-pool``: run parties of a task
until its last round.

``client`` and ``miner`` are one function: the command's name says the role.
``client-pool`` hosts many clients in one process (see :mod:`flchain.party.pool`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flchain.cli import options as opt
from flchain.party.behaviours import CLIENT_BEHAVIOURS, HONEST, MINER_BEHAVIOURS
from flchain.task.accounts import FIRST_CLIENT_ACCOUNT, FIRST_MINER_ACCOUNT

if TYPE_CHECKING:
    from flchain.party.participant import Participant

DEFAULT_TESTNET = Path(".flchain/testnet.json")
BEHAVIOURS = {"client": CLIENT_BEHAVIOURS, "miner": MINER_BEHAVIOURS}
INDEX_HELP = (
    f"The party's index (account {FIRST_CLIENT_ACCOUNT} + index for a client, "
    f"{FIRST_MINER_ACCOUNT} + index for the first miners)."
)
BEHAVIOUR_HELP = (
    f"{HONEST}, a client attack ({', '.join(b for b in CLIENT_BEHAVIOURS if b != HONEST)}) "
    f"or a miner behaviour ({', '.join(b for b in MINER_BEHAVIOURS if b != HONEST)})."
)


def register(app: typer.Typer) -> None:
    app.command(
        "client", help="Register, then train, pin, submit, aggregate and verify every round."
    )(party)
    app.command("miner", help="Register, then score, vote, finalize and attest every round.")(party)
    app.command("client-pool")(client_pool)


def party(
    ctx: typer.Context,
    index: Annotated[int, typer.Option("--index", help=INDEX_HELP)],
    testnet: opt.TestnetFile = DEFAULT_TESTNET,
    task: opt.TaskAddress = None,
    store: opt.PartyStore = None,
    kubo: opt.KuboUrl = None,
    behaviour: Annotated[str, typer.Option(help=BEHAVIOUR_HELP)] = HONEST,
    log_dir: opt.LogDir = None,
    app: opt.AppCopy = None,
    task_module: opt.TaskModuleCopy = None,
) -> None:
    """Check the behaviour (before importing torch), then run the party to its end."""
    role = ctx.info_name or ""
    known = BEHAVIOURS[role]
    if behaviour not in known:
        raise typer.BadParameter(f"unknown behaviour {behaviour!r}; use {', '.join(known)}")
    from flchain.party.child import Where, run_child

    kind = _participant(role)
    where = Where(testnet, task, store, kubo, log_dir, app, task_module)
    raise typer.Exit(run_child(kind, index, behaviour, where))


def client_pool(
    indices: Annotated[str, typer.Option("--indices", help="Client indices: 0-99 or 0-9,20.")],
    testnet: opt.TestnetFile = DEFAULT_TESTNET,
    task: opt.TaskAddress = None,
    store: opt.PartyStore = None,
    kubo: opt.KuboUrl = None,
    behaviours: Annotated[
        str, typer.Option(help="One behaviour per index, comma-separated (default: honest).")
    ] = "",
    compute_slots: Annotated[
        int, typer.Option(help="How many of the pool's clients train or aggregate at once.")
    ] = 1,
    log_dir: opt.LogDir = None,
    app: opt.AppCopy = None,
    task_module: opt.TaskModuleCopy = None,
) -> None:
    """Many clients in one process, each its own party with its own account, in threads."""
    from flchain.exceptions import FLchainError
    from flchain.party.pool import parse_indices

    try:
        chosen = parse_indices(indices)
    except FLchainError as exc:
        raise typer.BadParameter(str(exc)) from exc
    kinds = [b.strip() for b in behaviours.split(",")] if behaviours else [HONEST] * len(chosen)
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
    status = run_pool(
        PooledClient,
        chosen,
        kinds,
        *where,
        compute_slots=compute_slots,
        app_dir=app,
        task_module=task_module,
    )
    raise typer.Exit(status)


def _participant(role: str) -> type[Participant]:
    if role == "client":
        from clients.client import Client

        return Client
    from miners.miner import Miner

    return Miner
