"""``flchain run``: a whole federated task as separate client and miner processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flchain.cli import options as opt

if TYPE_CHECKING:
    from rich.console import Console

    from flchain.run.orchestrator import RunOptions, RunResult


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    clients: opt.Clients = 4,
    miners: Annotated[int, typer.Option(help="Number of miner processes (<= 9).")] = 3,
    rounds: opt.Rounds = 3,
    committee: Annotated[int, typer.Option(help="Committee seats per round (<= miners).")] = 3,
    dataset: Annotated[str, typer.Option(help="digits | mnist1d")] = "digits",
    partition: opt.Partition = "iid",
    strategy: opt.Strategy = "fedavg",
    strategy_param: opt.StrategyParams = None,
    malicious: opt.Malicious = "",
    malicious_miners: Annotated[
        str, typer.Option(help="e.g. inverted-scores:2 (lying miners, the first indices).")
    ] = "",
    seed: opt.Seed = 0,
    arch: opt.Arch = None,
    local_epochs: opt.LocalEpochs = 3,
    batch_size: opt.BatchSize = 16,
    lr: opt.LearningRate = 0.01,
    optimizer: opt.Optimizer = "adam",
    out: opt.RunDir = None,
    store: Annotated[Path | None, typer.Option(help="Store dir (default <out>/store).")] = None,
    kubo: opt.KuboUrl = None,
    home: opt.Home = Path(".flchain"),
    backend: opt.Backend = None,
    submit_s: Annotated[int, typer.Option(help="Upper bound of the submit phase.")] = 120,
    commit_s: Annotated[int, typer.Option(help="Upper bound of the commit phase.")] = 60,
    reveal_s: Annotated[int, typer.Option(help="Upper bound of the reveal phase.")] = 30,
    as_json: opt.AsJson = False,
) -> None:
    """Start the testnet if needed, spawn the parties, follow the rounds, write metrics."""
    import time

    from rich.console import Console

    from flchain.learning.strategies import parse_params
    from flchain.party.behaviours import assign_miner_behaviours
    from flchain.run.orchestrator import RunOptions
    from flchain.run.report import print_summary
    from flchain.run.setup import Phases
    from flchain.task.spec import TaskSpec, TrainSpec

    def options() -> RunOptions:
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
        return RunOptions(
            spec=spec,
            out=out or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S"),
            malicious=malicious,
            miner_behaviours=assign_miner_behaviours(malicious_miners, miners),
            home=home,
            store=store,
            kubo=kubo,
            backend=backend,
            phases=Phases(submit_s, commit_s, reveal_s),
        )

    console = Console(stderr=as_json)
    result = run_or_exit(options, console)
    if as_json:
        typer.echo(json.dumps(result.summary, indent=2))
    else:
        print_summary(console, result)


def run_or_exit(
    options: Callable[[], RunOptions], console: Console, failed: str = "error"
) -> RunResult:
    """Run the task ``options()`` describes; an error ends the command with status 2 (its
    message on ``console``, after ``failed``), an interrupt with 130, every child stopped."""
    from flchain.exceptions import FLchainError
    from flchain.run.orchestrator import run_task

    try:
        return run_task(options(), console)
    except FLchainError as exc:
        console.print(f"[red]{failed}:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: every child stopped[/]")
        raise typer.Exit(130) from None


def _default_arch(dataset: str) -> str:
    from flchain.learning.models import DEFAULT_ARCH

    return DEFAULT_ARCH.get(dataset, f"{dataset}-mlp")
