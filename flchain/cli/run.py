"""``flchain run``: a whole federated task as separate client and miner processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flchain.cli import options as opt

if TYPE_CHECKING:
    from rich.console import Console

    from flchain.run.orchestrator import RunOptions, RunResult


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    app: Annotated[
        Path | None, typer.Option(help="A Flower app directory (pyproject.toml) to run.")
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            "--task-module",
            help="A task module in plain PyTorch to run: path/to/task.py or pkg.module.",
        ),
    ] = None,
    clients: Annotated[int | None, typer.Option(help="Number of client processes [4].")] = None,
    miners: Annotated[int | None, typer.Option(help="Number of miner processes [3].")] = None,
    rounds: Annotated[int | None, typer.Option(help="Training rounds [3].")] = None,
    committee: Annotated[
        int | None, typer.Option(help="Committee seats per round (<= miners) [3].")
    ] = None,
    clients_per_round: Annotated[
        int | None,
        typer.Option(help="Clients the contract draws to train each round (<= clients) [all]."),
    ] = None,
    dataset: Annotated[
        str, typer.Option(help="digits | mnist1d | mnist1d-<N> (N samples)")
    ] = "digits",
    partition: opt.Partition = "iid",
    strategy: Annotated[
        str | None, typer.Option(help="Aggregation strategy (fedavg, ...) [fedavg].")
    ] = None,
    strategy_param: opt.StrategyParams = None,
    malicious: opt.Malicious = "",
    malicious_miners: Annotated[
        str, typer.Option(help="e.g. inverted-scores:2 (lying miners, the first indices).")
    ] = "",
    seed: Annotated[
        int | None, typer.Option(help="Task seed (data split, init, training) [0].")
    ] = None,
    arch: opt.Arch = None,
    local_epochs: Annotated[int | None, typer.Option(help="Local epochs per round [3].")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Local mini-batch size [16].")] = None,
    lr: Annotated[float | None, typer.Option(help="Local learning rate [0.01].")] = None,
    optimizer: Annotated[
        str | None, typer.Option(help="Local optimizer: sgd | adam [adam].")
    ] = None,
    dp_clip: Annotated[
        float | None, typer.Option(help="Differential privacy: clip each update to this L2 norm.")
    ] = None,
    dp_noise: Annotated[
        float | None, typer.Option(help="Differential privacy: Gaussian noise multiplier.")
    ] = None,
    dp_epsilon: Annotated[
        float | None, typer.Option(help="Differential privacy: target ε (derives the noise).")
    ] = None,
    dp_delta: Annotated[float | None, typer.Option(help="δ of the reported ε [1e-5].")] = None,
    compress: Annotated[
        str | None, typer.Option(help="What clients pin: topk:<fraction> or q8 [off].")
    ] = None,
    out: opt.RunDir = None,
    store: Annotated[Path | None, typer.Option(help="Store dir (default <out>/store).")] = None,
    kubo: opt.KuboUrl = None,
    home: opt.Home = Path(".flchain"),
    backend: opt.Backend = None,
    submit_s: Annotated[int, typer.Option(help="Upper bound of the submit phase.")] = 120,
    commit_s: Annotated[int, typer.Option(help="Upper bound of the commit phase.")] = 60,
    reveal_s: Annotated[int, typer.Option(help="Upper bound of the reveal phase.")] = 30,
    client_procs: opt.ClientProcs = None,
    engine: opt.EngineKind = "process",
    ray_address: opt.RayAddress = None,
    ray_miners: opt.RayMiners = False,
    as_json: opt.AsJson = False,
) -> None:
    """Start the testnet if needed, spawn the parties, follow the rounds, write metrics.

    With ``--app DIR`` the task runs that Flower app unchanged: its
    ``[tool.flchain]`` settings apply, and these options override them. With
    ``--task path/to/task.py`` (or ``pkg.module``) it runs that task module: its
    training settings apply, and these options override them."""
    import time

    from rich.console import Console

    from flchain.exceptions import ConfigError
    from flchain.learning.strategies import parse_params
    from flchain.party.behaviours import assign_miner_behaviours
    from flchain.run.engine import EngineOptions
    from flchain.run.orchestrator import RunOptions
    from flchain.run.report import print_summary
    from flchain.run.setup import Phases
    from flchain.task.compression import compression_setting
    from flchain.task.privacy import dp_from_table
    from flchain.task.spec import TaskSpec, TrainSpec

    def options() -> RunOptions:
        settings: dict[str, Any] = {
            "clients": clients,
            "miners": miners,
            "rounds": rounds,
            "committee": committee,
            "clients_per_round": clients_per_round,
            "seed": seed,
            "strategy": strategy,
            "strategy_params": parse_params(strategy_param) if strategy_param else None,
            "compress": compress,
        }
        given_dp = {"clip": dp_clip, "noise-multiplier": dp_noise, "epsilon": dp_epsilon}
        given_dp["delta"] = dp_delta
        dp = {k: v for k, v in given_dp.items() if v is not None}
        given_train: dict[str, Any] = {"epochs": local_epochs, "batch_size": batch_size}
        given_train |= {"lr": lr, "optimizer": optimizer}
        train = {k: v for k, v in given_train.items() if v is not None}
        if app is not None and task is not None:
            raise ConfigError("run a Flower app (--app) or a task module (--task), not both")
        if app is not None:
            from flchain.app.config import AppConfig

            spec = AppConfig.load(app).task_spec("", dp=dp, **settings)
        else:
            defaults: dict[str, Any] = {"clients": 4, "miners": 3, "rounds": 3, "committee": 3}
            defaults |= {"seed": 0, "strategy": "fedavg", "strategy_params": {}}
            given = defaults | {k: v for k, v in settings.items() if v is not None}
            given["compression"] = compression_setting(given.pop("compress", ""))
            if task is not None:
                from flchain.app.source import locate_task, task_spec

                source = locate_task(task)
                dp_spec = dp_from_table(dp, given["rounds"])
                spec = task_spec(source, train, dp=dp_spec, **given)
            else:
                spec = TaskSpec(
                    dataset=dataset,
                    partition=partition,
                    arch=arch or _default_arch(dataset),
                    train=TrainSpec(**train),
                    dp=dp_from_table(dp, given["rounds"]),
                    **given,
                )
        return RunOptions(
            spec=spec,
            out=out or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S"),
            malicious=malicious,
            miner_behaviours=assign_miner_behaviours(malicious_miners, spec.miners),
            home=home,
            store=store,
            kubo=kubo,
            backend=backend,
            phases=Phases(submit_s, commit_s, reveal_s),
            client_procs=client_procs,
            app=app,
            engine=EngineOptions(engine, ray_address, ray_miners),
            task=task,
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
    from flchain.learning.data import family
    from flchain.learning.models import DEFAULT_ARCH

    name = family(dataset)
    return DEFAULT_ARCH.get(name, f"{name}-mlp")
