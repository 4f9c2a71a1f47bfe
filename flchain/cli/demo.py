"""``flchain demo``: the whole loop on a fresh local chain, in a few minutes.

Brings up a testnet (Anvil, or the embedded py-evm node without Node.js) in a
temporary home, runs 5 clients (one of them a free-rider) and 3 miners for 5
rounds on the digits data set, prints a table per round and a final summary,
and tears the testnet down.
"""

from __future__ import annotations

from pathlib import Path

import typer

from flchain.cli.options import Backend, Clients, Malicious, Miners, Partition, Rounds, RunDir, Seed


def demo(
    clients: Clients = 5,
    miners: Miners = 3,
    rounds: Rounds = 5,
    malicious: Malicious = "free-rider:1",
    partition: Partition = "iid",
    seed: Seed = 0,
    out: RunDir = None,
    backend: Backend = None,
) -> None:
    """Run a small FLchain task end to end on a fresh local chain."""
    import tempfile
    import time

    from rich.console import Console

    from flchain.cli.run import run_or_exit
    from flchain.run.orchestrator import RunOptions
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
        result = run_or_exit(lambda: options, console, failed="demo failed")
    print_summary(console, result)
    console.print("testnet stopped.")


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""
    app.command("demo")(demo)
