"""``flchain testnet up | status | down``: a local chain with the protocol deployed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from flchain.cli.options import AsJson, Home


def register(app: typer.Typer) -> None:
    """Add the ``testnet`` command group to ``app``."""
    group = typer.Typer(help="Start, inspect and stop a local chain.", no_args_is_help=True)

    @group.command("up")
    def up_command(
        backend: Annotated[
            str, typer.Option(help="anvil, ganache or embedded (py-evm).")
        ] = "anvil",
        config: Annotated[
            Path | None, typer.Option(help="Ganache-style config (default ./ganache-config.json).")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port to listen on (127.0.0.1).")] = None,
        state: Annotated[
            Path | None, typer.Option(help="Keep the chain here across down/up.")
        ] = None,
        params: Annotated[
            Path | None, typer.Option(help="JSON file of task parameters to deploy with.")
        ] = None,
        deploy: Annotated[bool, typer.Option(help="Deploy the protocol contracts.")] = True,
        home: Home = Path(".flchain"),
        deployments: Annotated[Path, typer.Option(help="Where <chainId>.json goes.")] = Path(
            "deployments"
        ),
        as_json: AsJson = False,
    ) -> None:
        """Start a node in the background, deploy the protocol, write testnet.json."""
        from flchain.chain.node import NodeConfig
        from flchain.chain.testnet import UpOptions, up

        def run() -> dict[str, Any]:
            path = config or Path("ganache-config.json")
            node = NodeConfig.load(path) if (config or path.exists()) else NodeConfig()
            if port is not None:
                node = node.with_port(port)
            task = _read_params(params) if params else None
            options = UpOptions(backend, node, home, deployments, state, task, deploy)
            return up(options)

        record = _guarded(run)
        _show(record, as_json, f"testnet up: {record['backend']} at {record['rpc_url']}")

    _home_command(
        group,
        "status",
        "Print the testnet record, whether the node is alive, and its block number.",
        lambda r: (
            f"testnet {'alive' if r['alive'] else 'NOT answering'}: "
            f"{r['backend']} at {r['rpc_url']}"
        ),
    )
    _home_command(
        group,
        "down",
        "Stop the node cleanly (it saves its state first, if it has a state directory).",
        lambda r: (
            f"testnet {'stopped' if r['stopped'] else 'was not running'}: "
            f"{r['backend']} (pid {r['pid']})"
        ),
    )
    app.add_typer(group, name="testnet")


def _home_command(
    group: typer.Typer, name: str, doc: str, title: Callable[[dict[str, Any]], str]
) -> None:
    """Add command ``name``: ``flchain.chain.testnet.<name>(home)``, its record shown."""

    def command(home: Home = Path(".flchain"), as_json: AsJson = False) -> None:
        from flchain.chain import testnet

        record = _guarded(lambda: getattr(testnet, name)(home))
        _show(record, as_json, title(record))

    group.command(name, help=doc)(command)


def _read_params(path: Path) -> dict[str, Any]:
    from flchain.exceptions import ConfigError

    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read task parameters {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"task parameters {path} must be a JSON object")
    return data


def _guarded(action: Any) -> dict[str, Any]:
    from rich.console import Console

    from flchain.exceptions import FLchainError

    try:
        result: dict[str, Any] = action()
    except FLchainError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    return result


def _show(record: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(record, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    for key, value in record.items():
        if key == "accounts":
            value = f"{len(value)} accounts, first {value[0]}" if value else "none"
        elif isinstance(value, dict):
            value = "\n".join(f"{k}: {v}" for k, v in value.items()) or "-"
        table.add_row(key, "-" if value is None else str(value))
    Console().print(table)
