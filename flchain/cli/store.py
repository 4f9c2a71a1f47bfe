"""``flchain store``: add, fetch, pin and move model files by CID.

Every command works on a local store directory (``--store``, default
``.flchain/store``) or a Kubo node (``--kubo URL``). Results go to stdout
(``add`` prints the CID alone); errors exit non-zero with one line on stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flchain.cli.options import KuboUrl, StoreDir
from flchain.exceptions import FLchainError

if TYPE_CHECKING:
    from flchain.storage import ContentStore

store_app = typer.Typer(
    help="Content-addressed model storage with Kubo-identical CIDs.", no_args_is_help=True
)

Version = Annotated[int, typer.Option("--cid-version", help="0 (Qm..., Kubo default) or 1.")]
MaxSize = Annotated[
    int | None, typer.Option("--max-size", help="Refuse objects larger than this many bytes.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")


@contextmanager
def _opened(store_dir: Path | None, kubo: str | None) -> Iterator[ContentStore]:
    """Open the store; turn any of our errors into one line on stderr and exit 1."""
    from flchain.storage import open_store

    try:
        with open_store(store_dir, kubo) as store:
            yield store
    except (FLchainError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1) from None


@store_app.command("add")
def add(
    file: Path,
    cid_version: Version = 1,
    no_pin: Annotated[bool, typer.Option("--no-pin", help="Do not pin (GC may drop it).")] = False,
    store_dir: StoreDir = None,
    kubo: KuboUrl = None,
) -> None:
    """Add FILE; print its CID (the one `ipfs add` prints)."""
    with _opened(store_dir, kubo) as store:
        typer.echo(store.put_file(file, cid_version=cid_version, pin=not no_pin))


@store_app.command("cid")
def cid(file: Path, cid_version: Version = 1) -> None:
    """Print the CID FILE would get, without storing anything."""
    from flchain.storage import compute_file_cid

    with _opened(None, None):
        typer.echo(compute_file_cid(file, cid_version).encode())


@store_app.command("get")
def get(
    cid: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write ('-': stdout).")],
    max_size: MaxSize = None,
    store_dir: StoreDir = None,
    kubo: KuboUrl = None,
) -> None:
    """Fetch CID, verified block by block, into a file (written atomically)."""
    with _opened(store_dir, kubo) as store:
        if str(output) == "-":
            for piece in store.iter_content(cid, max_size=max_size):
                sys.stdout.buffer.write(piece)
            sys.stdout.buffer.flush()
        else:
            store.get_file(cid, output, max_size=max_size)


@store_app.command("stat")
def stat(cid: str, store_dir: StoreDir = None, kubo: KuboUrl = None) -> None:
    """Print a CID's size and codec as JSON."""
    with _opened(store_dir, kubo) as store:
        info = store.stat(cid)
        typer.echo(json.dumps({"cid": info.cid, "size": info.size, "codec": info.codec}))


@store_app.command("export")
def export(
    cids: list[str],
    output: Annotated[Path, typer.Option("-o", "--output", help="CAR file to write.")],
    store_dir: StoreDir = None,
    kubo: KuboUrl = None,
) -> None:
    """Write the DAGs of CIDS to a CARv1 file (`ipfs dag import` reads it)."""
    with _opened(store_dir, kubo) as store:
        tmp = output.with_name(f".{output.name}.partial")
        with open(tmp, "wb") as out:
            count = store.export_car(cids, out)
        tmp.replace(output)
        typer.echo(f"{count} blocks, {len(cids)} roots -> {output}")


@store_app.command("import")
def import_(
    car: Path,
    no_pin: Annotated[bool, typer.Option("--no-pin", help="Do not pin the roots.")] = False,
    store_dir: StoreDir = None,
    kubo: KuboUrl = None,
) -> None:
    """Import a CARv1 file (every block verified); print its root CIDs."""
    with _opened(store_dir, kubo) as store, open(car, "rb") as src:
        for root in store.import_car(src, pin=not no_pin):
            typer.echo(root)


@store_app.command("pin")
def pin(cid: str, store_dir: StoreDir = None, kubo: KuboUrl = None) -> None:
    """Pin CID (its whole DAG must be present)."""
    with _opened(store_dir, kubo) as store:
        store.pin(cid)
        typer.echo(f"pinned {cid}")


@store_app.command("unpin")
def unpin(cid: str, store_dir: StoreDir = None, kubo: KuboUrl = None) -> None:
    """Remove the pin on CID."""
    with _opened(store_dir, kubo) as store:
        was = store.unpin(cid)
        typer.echo(f"unpinned {cid}" if was else f"{cid} was not pinned")


@store_app.command("pins")
def pins(store_dir: StoreDir = None, kubo: KuboUrl = None) -> None:
    """List pinned CIDs, one per line."""
    with _opened(store_dir, kubo) as store:
        for root in store.pins():
            typer.echo(root)


@store_app.command("gc")
def gc(store_dir: StoreDir = None) -> None:
    """Delete unpinned blocks from a local store."""
    from flchain.storage import LocalStore

    with _opened(store_dir, None) as store:
        assert isinstance(store, LocalStore)
        result = store.gc()
        typer.echo(
            f"removed {result.removed_blocks} blocks ({result.removed_bytes} bytes), "
            f"kept {result.kept_blocks}, cleaned {result.removed_temp_files} temp files"
        )
