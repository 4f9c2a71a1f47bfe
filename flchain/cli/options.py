"""Options that more than one command takes: one name, type and help text each.

A command gives its own default (``clients: Clients = 4``); where an option
means the same in several commands, it is defined here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# --- where things are ------------------------------------------------------------------

Home = Annotated[Path, typer.Option("--home", help="Testnet home: testnet.json and node.log.")]
StoreDir = Annotated[
    Path | None,
    typer.Option("--store", help="Store directory (default .flchain/store).", show_default=False),
]
KuboUrl = Annotated[
    str | None, typer.Option("--kubo", help="Use a Kubo node's RPC API at this URL instead.")
]
Backend = Annotated[str | None, typer.Option(help="anvil | ganache | embedded")]
RunDir = Annotated[Path | None, typer.Option(help="Run directory (default runs/<time>).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]

# --- one party, or a pool of clients ---------------------------------------------------

TestnetFile = Annotated[Path, typer.Option("--testnet", help="testnet.json of the running node.")]
TaskAddress = Annotated[
    str | None, typer.Option("--task", help="Task contract (default: testnet's).")
]
PartyStore = Annotated[str | None, typer.Option("--store", help="Local store directory.")]
LogDir = Annotated[Path | None, typer.Option("--log-dir", help="Where to write event logs.")]
AppCopy = Annotated[
    Path | None,
    typer.Option("--app", help="Local copy of the task's Flower app (checked by its CID)."),
]
TaskModuleCopy = Annotated[
    str | None,
    typer.Option(
        "--task-module",
        help="Local copy of the task's module: path/to/task.py or pkg.module (checked by its CID).",
    ),
]
ClientProcs = Annotated[
    int | None,
    typer.Option(help="Client processes (pools); default one per client up to 16, else per core."),
]

# --- where the parties run (flchain run) ------------------------------------------------

EngineKind = Annotated[
    str, typer.Option(help="process: each party a local process; ray: client pools as Ray actors.")
]
RayAddress = Annotated[
    str | None,
    typer.Option(help="With --engine ray: an existing cluster (HOST:PORT); default: a local Ray."),
]
RayMiners = Annotated[
    bool, typer.Option("--ray-miners", help="With --engine ray: the miners as Ray actors too.")
]

# --- the task ---------------------------------------------------------------------------

Clients = Annotated[int, typer.Option(help="Number of clients.")]
Miners = Annotated[int, typer.Option(help="Number of miners.")]
Rounds = Annotated[int, typer.Option(help="Training rounds.")]
Dataset = Annotated[
    str, typer.Option(help="digits, mnist1d, mnist1d-<N>, mnist, fashion-mnist, cifar10, npz")
]
Partition = Annotated[str, typer.Option(help="iid | dirichlet:<alpha> | shards:<n>")]
Strategy = Annotated[str, typer.Option(help="Aggregation strategy (fedavg, multikrum, ...).")]
Seed = Annotated[int, typer.Option(help="Task seed (data split, init, attacks, training).")]
StrategyParams = Annotated[
    list[str] | None, typer.Option(help="Strategy parameter name=value (repeatable).")
]
Arch = Annotated[str | None, typer.Option(help="Model architecture id (default per data set).")]
Malicious = Annotated[
    str,
    typer.Option(
        help="Misbehaving clients, NAME:AMOUNT,... (an integer: a count of clients, a decimal: "
        "a share of them), e.g. free-rider:1,noise:0.2"
    ),
]

# --- local training ---------------------------------------------------------------------

LocalEpochs = Annotated[int, typer.Option(help="Local epochs per round.")]
BatchSize = Annotated[int, typer.Option(help="Local mini-batch size.")]
LearningRate = Annotated[float, typer.Option(help="Local learning rate.")]
Optimizer = Annotated[str, typer.Option(help="Local optimizer: sgd | adam.")]
