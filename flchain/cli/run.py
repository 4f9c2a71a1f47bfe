"""``flchain run``: a whole federated task as separate client and miner processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    app: Annotated[
        Path | None, typer.Option(help="A Flower app directory (pyproject.toml) to run.")
    ] = None,
    clients: Annotated[int | None, typer.Option(help="Number of client processes [4].")] = None,
    miners: Annotated[
        int | None, typer.Option(help="Number of miner processes (<= 9) [3].")
    ] = None,
    rounds: Annotated[int | None, typer.Option(help="Training rounds [3].")] = None,
    committee: Annotated[
        int | None, typer.Option(help="Committee seats per round (<= miners) [3].")
    ] = None,
    dataset: Annotated[str, typer.Option(help="digits | mnist1d")] = "digits",
    partition: Annotated[str, typer.Option(help="iid | dirichlet:A | shards:S")] = "iid",
    strategy: Annotated[
        str | None, typer.Option(help="Aggregation strategy (fedavg, ...) [fedavg].")
    ] = None,
    strategy_param: Annotated[
        list[str] | None, typer.Option("--strategy-param", help="name=value, repeatable.")
    ] = None,
    malicious: Annotated[
        str, typer.Option(help="e.g. free-rider:1,noise:0.2 (count or share of clients).")
    ] = "",
    malicious_miners: Annotated[
        str, typer.Option(help="e.g. inverted-scores:2 (lying miners, the first indices).")
    ] = "",
    seed: Annotated[
        int | None, typer.Option(help="Task seed (data split, init, training) [0].")
    ] = None,
    arch: Annotated[str | None, typer.Option(help="Model architecture id.")] = None,
    local_epochs: Annotated[int, typer.Option(help="Local epochs per round.")] = 3,
    batch_size: Annotated[int, typer.Option(help="Local batch size.")] = 16,
    lr: Annotated[float, typer.Option(help="Local learning rate.")] = 0.01,
    optimizer: Annotated[str, typer.Option(help="Local optimizer: adam | sgd.")] = "adam",
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
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/<time>).")] = None,
    store: Annotated[Path | None, typer.Option(help="Store dir (default <out>/store).")] = None,
    kubo: Annotated[str | None, typer.Option(help="Kubo RPC URL instead of a store.")] = None,
    home: Annotated[Path, typer.Option(help="Testnet home (testnet.json).")] = Path(".flchain"),
    backend: Annotated[str | None, typer.Option(help="anvil | ganache | embedded")] = None,
    submit_s: Annotated[int, typer.Option(help="Upper bound of the submit phase.")] = 120,
    commit_s: Annotated[int, typer.Option(help="Upper bound of the commit phase.")] = 60,
    reveal_s: Annotated[int, typer.Option(help="Upper bound of the reveal phase.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Start the testnet if needed, spawn the parties, follow the rounds, write metrics.

    With ``--app DIR`` the task runs that Flower app unchanged: its
    ``[tool.flchain]`` settings apply, and these options override them."""
    import time

    from rich.console import Console

    from flchain.exceptions import FLchainError
    from flchain.learning.strategies import parse_params
    from flchain.party.behaviours import assign_miner_behaviours
    from flchain.run.orchestrator import RunOptions, run_task
    from flchain.run.report import print_summary
    from flchain.run.setup import Phases
    from flchain.task.privacy import dp_from_table
    from flchain.task.spec import TaskSpec, TrainSpec

    console = Console(stderr=as_json)
    try:
        settings: dict[str, Any] = {
            "clients": clients,
            "miners": miners,
            "rounds": rounds,
            "committee": committee,
            "seed": seed,
            "strategy": strategy,
            "strategy_params": parse_params(strategy_param) if strategy_param else None,
        }
        given_dp = {"clip": dp_clip, "noise-multiplier": dp_noise, "epsilon": dp_epsilon}
        given_dp["delta"] = dp_delta
        dp = {k: v for k, v in given_dp.items() if v is not None}
        if app is not None:
            from flchain.app.config import AppConfig

            spec = AppConfig.load(app).task_spec("", dp=dp, **settings)
        else:
            defaults: dict[str, Any] = {
                "clients": 4,
                "miners": 3,
                "rounds": 3,
                "committee": 3,
                "seed": 0,
            }
            defaults |= {"strategy": "fedavg", "strategy_params": {}}
            given = defaults | {k: v for k, v in settings.items() if v is not None}
            spec = TaskSpec(
                dataset=dataset,
                partition=partition,
                arch=arch or _default_arch(dataset),
                train=TrainSpec(
                    epochs=local_epochs, batch_size=batch_size, lr=lr, optimizer=optimizer
                ),
                dp=dp_from_table(dp, given["rounds"]),
                **given,
            )
        options = RunOptions(
            spec=spec,
            out=out or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S"),
            malicious=malicious,
            miner_behaviours=assign_miner_behaviours(malicious_miners, spec.miners),
            home=home,
            store=store,
            kubo=kubo,
            backend=backend,
            phases=Phases(submit_s, commit_s, reveal_s),
            app=app,
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
