"""The ``flchain`` command line.

Each command group lives in its own module and exposes ``register(app)``.
Modules import heavy dependencies (torch, web3) inside their commands, so that
``flchain --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="flchain",
    help="Blockchain-backed federated learning: train, pin, vote, aggregate, audit.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# One module per command group, in the order of an update's path.
_COMMAND_MODULES: tuple[str, ...] = (
    "build",
    "testnet",
    "store",
    "party",
    "run",
    "demo",
    "baseline",
    "audit",
)


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"flchain.cli.{name}")
        module.register(app)


@app.callback()
def _root() -> None:
    """FLchain command line."""


def main() -> None:
    """Console-script entry point."""
    _register_all()
    app(prog_name="flchain")
