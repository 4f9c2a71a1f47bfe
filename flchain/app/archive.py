"""An app's source as one content-addressed archive: what the chain certifies.

The app directory is canonicalised — regular files only, sorted by their
NFC-normalised POSIX paths, without hidden entries (``.git``, ``.venv``),
``__pycache__``, ``*.egg-info`` or compiled ``*.pyc`` — and packed into an
uncompressed POSIX tar whose every header field but the path and size is fixed
(mtime 0, mode 0644, owner 0). The same sources give the same bytes on any
machine, hence the same CID. ``flchain run`` pins the archive and writes its
CID into the task spec; every party checks its local copy against it before
it starts (:func:`verify_app`), and the auditor can unpack it from the store.
"""

from __future__ import annotations

import io
import tarfile
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from flchain.exceptions import AppMismatchError, ConfigError
from flchain.storage import compute_cid
from flchain.storage.base import ContentStore

if TYPE_CHECKING:
    from flchain.app.program import TaskProgram
    from flchain.task.spec import TaskSpec

MAX_APP_BYTES = 32 * 1024 * 1024
"""Largest app archive accepted (sources, not data sets)."""
MAX_APP_FILES = 5000
_SKIP_SUFFIXES = (".pyc", ".pyo")


def app_files(root: Path) -> list[tuple[str, Path]]:
    """The app's files as (canonical relative path, file), in archive order."""
    root = root.resolve()
    if not root.is_dir():
        raise ConfigError(f"app directory {root} does not exist")
    found: list[tuple[str, Path]] = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(_skipped(part) for part in rel.parts) or path.suffix in _SKIP_SUFFIXES:
            continue
        if path.is_symlink():
            raise ConfigError(f"app file {rel} is a symbolic link; the app must hold its files")
        if path.is_file():
            found.append((unicodedata.normalize("NFC", rel.as_posix()), path))
    if len(found) > MAX_APP_FILES:
        raise ConfigError(f"app {root} has {len(found)} files, over {MAX_APP_FILES}")
    found.sort(key=lambda item: item[0].encode())
    return found


def _skipped(part: str) -> bool:
    return part.startswith(".") or part == "__pycache__" or part.endswith(".egg-info")


def pack_app(root: str | Path) -> bytes:
    """The canonical archive of an app directory."""
    return pack_files(app_files(Path(root)), f"app {root}")


def pack_files(files: list[tuple[str, Path]], what: str) -> bytes:
    """The canonical archive of ``files`` (archive path, file), given in archive order;
    ``what`` names the source in errors."""
    out = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in files:
            data = path.read_bytes()
            total += len(data)
            if total > MAX_APP_BYTES:
                raise ConfigError(
                    f"{what} is over {MAX_APP_BYTES >> 20} MiB; keep data sets outside it"
                )
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def app_cid(root: str | Path) -> str:
    """The CID of an app directory's canonical archive."""
    return str(compute_cid(pack_app(root)))


def verify_app(root: str | Path, certified: str) -> None:
    """Refuse a local app copy whose archive is not the certified one (naming both CIDs)."""
    refuse_mismatch(f"the app in {Path(root).resolve()}", app_cid(root), certified)


def refuse_mismatch(what: str, local: str, certified: str) -> None:
    """Refuse local code whose archive CID ``local`` is not the ``certified`` one."""
    if local != certified:
        raise AppMismatchError(
            f"{what} has CID {local}, but the task certified {certified}: this copy "
            "differs from the code the task runs; refusing to start"
        )


def unpack_app(data: bytes, dest: str | Path) -> Path:
    """Extract an app archive (fetched by its CID) into ``dest``; paths stay inside it."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if len(data) > MAX_APP_BYTES + (MAX_APP_FILES + 2) * 1024:
        raise ConfigError(f"app archive of {len(data)} bytes is too large")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ConfigError(f"cannot unpack the app archive: {exc}") from exc
    return dest


def fetch_app(store: ContentStore, cid: str, dest: str | Path) -> Path:
    """Fetch the app archive ``cid`` (verified by the store), unpack it, check it re-packs to
    the same CID; the app directory."""
    data = store.get(cid, max_size=MAX_APP_BYTES + (MAX_APP_FILES + 2) * 1024)
    root = unpack_app(data, dest)
    verify_app(root, cid)
    return root


def fetch_program(store: ContentStore, spec: TaskSpec, dest: Path) -> TaskProgram:
    """The task's app or task module, fetched by the CID its spec names, as a program."""
    from flchain.app.program import Partitions

    if spec.task.cid:
        from flchain.app.source import fetch_task, task_program
        from flchain.learning.strategies import strategy_from_name
        from flchain.task.evaluation import train_config

        strategy = strategy_from_name(spec.strategy, **spec.strategy_params)
        return task_program(fetch_task(store, spec.task, dest), spec, train_config(spec, strategy))
    from flchain.app.config import AppConfig
    from flchain.app.flower import FlowerProgram

    root = fetch_app(store, spec.app, dest)
    return FlowerProgram(AppConfig.load(root), Partitions(spec.clients, spec.miners), spec.seed)
