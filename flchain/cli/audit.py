"""``flchain audit``: rebuild and verify a task's whole history from the chain and the store.

Exit status: 0 when everything verifies, 1 when a discrepancy was found,
2 when the audit could not run (bad options, no node, no task).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from flchain.cli.options import AsJson, KuboUrl, StoreDir
from flchain.exceptions import FLchainError

if TYPE_CHECKING:
    from flchain.storage import ContentStore
    from flchain.task.spec import TaskSpec

DEFAULT_TESTNET = Path(".flchain/testnet.json")


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    testnet: Annotated[
        Path | None,
        typer.Option(
            "--testnet",
            help="Testnet file (default: the node a --run recorded, else "
            ".flchain/testnet.json if present).",
        ),
    ] = None,
    rpc: Annotated[str | None, typer.Option("--rpc", help="RPC URL of the node to read.")] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Protocol (task) contract address.")
    ] = None,
    task_file: Annotated[
        Path | None, typer.Option("--task", help="A run's task.json (address + deployment block).")
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            "--run",
            help="A run directory: its task.json (node URL, address) and, by default, its store.",
        ),
    ] = None,
    from_block: Annotated[
        int | None, typer.Option("--from-block", help="First block to read events from.")
    ] = None,
    store: StoreDir = None,
    kubo: KuboUrl = None,
    test_data: Annotated[
        str | None,
        typer.Option(
            "--test-data", help="Held-out data: digits, mnist1d or an .npz (default: the task's)."
        ),
    ] = None,
    rescore: Annotated[
        bool, typer.Option("--rescore/--no-rescore", help="Re-score every update on the test data.")
    ] = True,
    as_json: AsJson = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report here.")
    ] = None,
) -> None:
    """Verify every round of a task from chain logs, state and content addresses alone."""
    from flchain.audit.source import resolve_source

    fallback = DEFAULT_TESTNET if DEFAULT_TESTNET.exists() else None
    if run_dir is not None:
        task_file = task_file or run_dir / "task.json"
        if store is None and kubo is None:
            store = run_dir / "store"
    try:
        source = resolve_source(testnet, rpc, address, from_block, task_file, fallback)
    except FLchainError as exc:
        _fail(exc)
    from flchain.audit.auditor import audit_history
    from flchain.audit.history import load_history, load_test_data
    from flchain.audit.html import write_html
    from flchain.audit.report import print_report, to_json
    from flchain.storage import open_store

    try:
        history = load_history(source)
        with open_store(store, kubo) as content:
            spec = _spec_or_none(content, history.params.spec_cid)
            # an app's or a module's auditor evaluates with its code, on its held-out partition
            name = test_data or (spec.dataset if spec and spec.builtin else None)
            data = load_test_data(name) if name else None
            report = audit_history(history, content, test_data=data, rescore=rescore, spec=spec)
    except (FLchainError, OSError) as exc:
        _fail(exc)
    if html is not None:
        write_html(report, html)
    if as_json:
        typer.echo(to_json(report))
    else:
        print_report(report)
        if html is not None:
            typer.echo(f"HTML report: {html}")
    if not report.verified:
        raise typer.Exit(1)


def _fail(exc: Exception) -> NoReturn:
    """One line on stderr, exit status 2."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2) from None


def _spec_or_none(store: ContentStore, spec_cid: str) -> TaskSpec | None:
    """The task spec, or None (the audit then checks the chain only, and says so)."""
    from flchain.audit.history import load_spec
    from flchain.exceptions import ConfigError

    try:
        return load_spec(store, spec_cid)
    except ConfigError as exc:
        typer.echo(f"warning: {exc}; models are not checked", err=True)
        return None
