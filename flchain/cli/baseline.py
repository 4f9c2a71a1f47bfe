"""``flchain baseline``: classic in-process federated learning, no chain and no storage.

Prints a rich table (or ``--json``) with the final test accuracy, the accuracy
after every round and the wall-clock time: the yardstick for FLchain runs.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from flchain.cli import options as opt
from flchain.exceptions import FLchainError


def baseline(
    ctx: typer.Context,
    dataset: opt.Dataset = "digits",
    data_path: Annotated[
        str | None, typer.Option(help="Directory or .npz file for file-backed data sets")
    ] = None,
    clients: opt.Clients = 20,
    rounds: opt.Rounds = 30,
    partition: opt.Partition = "dirichlet:0.5",
    strategy: opt.Strategy = "fedavg",
    param: opt.StrategyParams = None,
    malicious: opt.Malicious = "",
    seed: opt.Seed = 0,
    local_epochs: opt.LocalEpochs = 4,
    batch_size: opt.BatchSize = 16,
    lr: opt.LearningRate = 0.3,
    optimizer: opt.Optimizer = "sgd",
    arch: opt.Arch = None,
    fraction_fit: Annotated[
        float, typer.Option(help="Fraction of clients sampled per round")
    ] = 1.0,
    compress: Annotated[str | None, typer.Option(help="topk:<fraction> or q8")] = None,
    dp_clip: Annotated[float | None, typer.Option(help="Client-side DP: L2 clip norm")] = None,
    dp_noise: Annotated[float, typer.Option(help="Client-side DP: noise multiplier")] = 0.0,
    dp_delta: Annotated[float, typer.Option(help="δ for the reported ε")] = 1e-5,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    threads: Annotated[int, typer.Option(help="torch CPU threads")] = 1,
    as_json: opt.AsJson = False,
) -> None:
    """Run plain FedAvg-style federated learning in one process and report accuracy and time."""
    from flchain.learning.baseline import BaselineConfig, run_baseline
    from flchain.learning.strategies import parse_params

    # Every option but --param and --json is the BaselineConfig field of the same name.
    options = {k: v for k, v in ctx.params.items() if k not in ("param", "as_json")}
    options["malicious"] = malicious or None
    try:
        config = BaselineConfig(**options, strategy_params=parse_params(param or []))
        result = run_baseline(config)
    except FLchainError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    _print_table(result.to_json())


def _print_table(out: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    cfg = out["config"]
    table = Table(title=f"baseline: {cfg['strategy']} on {cfg['dataset']} ({out['arch']})")
    table.add_column("round", justify="right")
    table.add_column("test accuracy", justify="right")
    for i, acc in enumerate(out["accuracy_per_round"], start=1):
        table.add_row(str(i), f"{acc:.4f}")
    console = Console()
    console.print(table)
    console.print(f"final accuracy [bold]{out['accuracy']:.4f}[/bold], loss {out['loss']:.4f}")
    console.print(
        f"clients {cfg['clients']}, partition {cfg['partition']}, "
        f"malicious {out['malicious_clients'] or 'none'}, wall {out['wall_s']:.1f} s"
    )
    for name, who in out["attackers"].items():
        console.print(f"attack {name}: clients {who}")
    if out["backdoor_success"] is not None:
        console.print(f"backdoor attack success rate {out['backdoor_success']:.4f}")
    if cfg["compress"]:
        ratio = out["bytes_per_update_sent"] / out["bytes_per_update_raw"]
        console.print(
            f"update size {out['bytes_per_update_sent']:.0f} B of {out['bytes_per_update_raw']} B "
            f"({ratio:.1%})"
        )
    if out["epsilon"] is not None:
        console.print(f"differential privacy: ε = {out['epsilon']:.3f} at δ = {cfg['dp_delta']}")


def register(app: typer.Typer) -> None:
    """Add the ``baseline`` command."""
    app.command("baseline")(baseline)
