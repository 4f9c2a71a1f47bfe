"""``flchain demo``: the whole loop on a fresh local chain, in a few minutes.

Brings up a testnet (Anvil, or the embedded py-evm node without Node.js) in a
temporary home, runs 5 clients (one of them a free-rider) and 3 miners for 5
rounds on the digits data set, prints a table per round and a final summary,
and tears the testnet down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    clients: Annotated[int, typer.Option(help="Number of clients.")] = 5,
    miners: Annotated[int, typer.Option(help="Number of miners.")] = 3,
    rounds: Annotated[int, typer.Option(help="Training rounds.")] = 5,
    malicious: Annotated[str, typer.Option(help="Misbehaving clients.")] = "free-rider:1",
    partition: Annotated[str, typer.Option(help="iid | dirichlet:A | shards:S")] = "iid",
    seed: Annotated[int, typer.Option(help="Task seed.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Run directory.")] = None,
    backend: Annotated[str | None, typer.Option(help="anvil | ganache | embedded")] = None,
) -> None:
    """Run a small FLchain task end to end on a fresh local chain."""
    import tempfile
    import time

    from rich.console import Console

    from flchain.exceptions import FLchainError
    from flchain.run.orchestrator import RunOptions, run_task
    from flchain.run.report import print_summary
    from flchain.run.setup import Phases
    from flchain.task.spec import TaskSpec

    console = Console()
    run_dir = out or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    spec = TaskSpec(
        dataset="digits",
        partition=partition,
        seed=seed,
        arch="digits-mlp",
        clients=clients,
        miners=miners,
        rounds=rounds,
    )
    console.rule("FLchain demo")
    console.print(
        f"{clients} clients ({malicious or 'all honest'}), {miners} miners, {rounds} rounds "
        "on digits; every update is scored by a miner committee before inclusion, and every "
        "client checks its local aggregate against the certified CID."
    )
    with tempfile.TemporaryDirectory(prefix="flchain-demo-") as home:
        options = RunOptions(
            spec=spec,
            out=run_dir,
            malicious=malicious,
            home=Path(home),
            backend=backend,
            phases=Phases(submit=60, commit=30, reveal=20),
        )
        try:
            result = run_task(options, console)
        except FLchainError as exc:
            console.print(f"[red]demo failed:[/] {exc}", soft_wrap=True)
            raise typer.Exit(2) from exc
        except KeyboardInterrupt:
            console.print("[yellow]interrupted: every child stopped[/]")
            raise typer.Exit(130) from None
    print_summary(console, result)
    console.print("testnet stopped.")
