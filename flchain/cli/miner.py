"""``flchain miner``: run one miner of a task until its last round."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flchain.party.behaviours import MINER_BEHAVIOURS


def register(app: typer.Typer) -> None:
    app.command("miner")(miner)


def miner(
    index: Annotated[int, typer.Option("--index", help="Miner index (account 1 + index).")],
    testnet: Annotated[Path, typer.Option(help="testnet.json of the running node.")] = Path(
        ".flchain/testnet.json"
    ),
    task: Annotated[str | None, typer.Option(help="Task contract (default: testnet's).")] = None,
    store: Annotated[str | None, typer.Option(help="Local store directory.")] = None,
    kubo: Annotated[str | None, typer.Option(help="Kubo RPC URL instead of a local store.")] = None,
    behaviour: Annotated[str, typer.Option(hidden=True)] = "honest",
    log_dir: Annotated[Path | None, typer.Option(help="Where to write event logs.")] = None,
) -> None:
    """Register, then score, vote, finalize and attest every round."""
    if behaviour not in MINER_BEHAVIOURS:
        raise typer.BadParameter(f"unknown behaviour {behaviour!r}; use {MINER_BEHAVIOURS}")
    from flchain.party.child import run_child
    from miners.miner import Miner

    raise typer.Exit(run_child(Miner, index, behaviour, testnet, task, store, kubo, log_dir))
