"""``flchain run``: a whole federated task as separate client and miner processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    clients: Annotated[int, typer.Option(help="Number of clients.")] = 4,
    miners: Annotated[int, typer.Option(help="Number of miner processes.")] = 3,
    rounds: Annotated[int, typer.Option(help="Training rounds.")] = 3,
    committee: Annotated[int, typer.Option(help="Committee seats per round (<= miners).")] = 3,
    dataset: Annotated[str, typer.Option(help="digits | mnist1d")] = "digits",
    partition: Annotated[str, typer.Option(help="iid | dirichlet:A | shards:S")] = "iid",
    strategy: Annotated[str, typer.Option(help="Aggregation strategy (fedavg, ...).")] = "fedavg",
    strategy_param: Annotated[
        list[str] | None, typer.Option("--strategy-param", help="name=value, repeatable.")
    ] = None,
    malicious: Annotated[
        str, typer.Option(help="e.g. free-rider:1,noise:0.2 (count or share of clients).")
    ] = "",
    malicious_miners: Annotated[
        str, typer.Option(help="e.g. inverted-scores:2 (lying miners, the first indices).")
    ] = "",
    seed: Annotated[int, typer.Option(help="Task seed (data split, init, training).")] = 0,
    arch: Annotated[str | None, typer.Option(help="Model architecture id.")] = None,
    local_epochs: Annotated[int, typer.Option(help="Local epochs per round.")] = 3,
    batch_size: Annotated[int, typer.Option(help="Local batch size.")] = 16,
    lr: Annotated[float, typer.Option(help="Local learning rate.")] = 0.01,
    optimizer: Annotated[str, typer.Option(help="Local optimizer: adam | sgd.")] = "adam",
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/<time>).")] = None,
    store: Annotated[Path | None, typer.Option(help="Store dir (default <out>/store).")] = None,
    kubo: Annotated[str | None, typer.Option(help="Kubo RPC URL instead of a store.")] = None,
    home: Annotated[Path, typer.Option(help="Testnet home (testnet.json).")] = Path(".flchain"),
    backend: Annotated[str | None, typer.Option(help="anvil | ganache | embedded")] = None,
    submit_s: Annotated[int, typer.Option(help="Upper bound of the submit phase.")] = 120,
    commit_s: Annotated[int, typer.Option(help="Upper bound of the commit phase.")] = 60,
    reveal_s: Annotated[int, typer.Option(help="Upper bound of the reveal phase.")] = 30,
    client_procs: Annotated[
        int | None,
        typer.Option(
            help="Client processes (pools); default one per client up to 16, else per core."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Start the testnet if needed, spawn the parties, follow the rounds, write metrics."""
    import time

    from rich.console import Console

    from flchain.exceptions import FLchainError
    from flchain.learning.strategies import parse_params
    from flchain.party.behaviours import assign_miner_behaviours
    from flchain.run.orchestrator import RunOptions, run_task
    from flchain.run.report import print_summary
    from flchain.run.setup import Phases
    from flchain.task.spec import TaskSpec, TrainSpec

    console = Console(stderr=as_json)
    try:
        spec = TaskSpec(
            dataset=dataset,
            partition=partition,
            seed=seed,
            arch=arch or _default_arch(dataset),
            strategy=strategy,
            strategy_params=parse_params(strategy_param or []),
            train=TrainSpec(epochs=local_epochs, batch_size=batch_size, lr=lr, optimizer=optimizer),
            clients=clients,
            miners=miners,
            rounds=rounds,
            committee=committee,
        )
        options = RunOptions(
            spec=spec,
            out=out or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S"),
            malicious=malicious,
            miner_behaviours=assign_miner_behaviours(malicious_miners, miners),
            home=home,
            store=store,
            kubo=kubo,
            backend=backend,
            phases=Phases(submit_s, commit_s, reveal_s),
            client_procs=client_procs,
        )
        result = run_task(options, console)
    except FLchainError as exc:
        console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: every child stopped[/]")
        raise typer.Exit(130) from None
    if as_json:
        typer.echo(json.dumps(result.summary, indent=2))
    else:
        print_summary(console, result)


def _default_arch(dataset: str) -> str:
    from flchain.learning.models import DEFAULT_ARCH

    return DEFAULT_ARCH.get(dataset, f"{dataset}-mlp")
