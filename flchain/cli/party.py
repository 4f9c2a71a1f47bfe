"""``flchain client`` and ``flchain miner``: run one party of a task until its last round.

Both commands are one function: the command's name says the role.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flchain.cli.options import KuboUrl
from flchain.party.behaviours import CLIENT_BEHAVIOURS, HONEST, MINER_BEHAVIOURS
from flchain.task.accounts import FIRST_CLIENT_ACCOUNT, FIRST_MINER_ACCOUNT

if TYPE_CHECKING:
    from flchain.party.participant import Participant

DEFAULT_TESTNET = Path(".flchain/testnet.json")
BEHAVIOURS = {"client": CLIENT_BEHAVIOURS, "miner": MINER_BEHAVIOURS}
INDEX_HELP = (
    f"The party's index (account {FIRST_CLIENT_ACCOUNT} + index for a client, "
    f"{FIRST_MINER_ACCOUNT} + index for a miner)."
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


def party(
    ctx: typer.Context,
    index: Annotated[int, typer.Option("--index", help=INDEX_HELP)],
    testnet: Annotated[
        Path, typer.Option(help="testnet.json of the running node.")
    ] = DEFAULT_TESTNET,
    task: Annotated[str | None, typer.Option(help="Task contract (default: testnet's).")] = None,
    store: Annotated[str | None, typer.Option(help="Local store directory.")] = None,
    kubo: KuboUrl = None,
    behaviour: Annotated[str, typer.Option(help=BEHAVIOUR_HELP)] = HONEST,
    log_dir: Annotated[Path | None, typer.Option(help="Where to write event logs.")] = None,
    app: Annotated[
        Path | None, typer.Option(help="Local copy of the task's Flower app (checked by its CID).")
    ] = None,
) -> None:
    """Check the behaviour (before importing torch), then run the party to its end."""
    role = ctx.info_name or ""
    known = BEHAVIOURS[role]
    if behaviour not in known:
        raise typer.BadParameter(f"unknown behaviour {behaviour!r}; use {', '.join(known)}")
    from flchain.party.child import run_child

    kind = _participant(role)
    raise typer.Exit(run_child(kind, index, behaviour, testnet, task, store, kubo, log_dir, app))


def _participant(role: str) -> type[Participant]:
    if role == "client":
        from clients.client import Client

        return Client
    from miners.miner import Miner

    return Miner
