"""The app archive: canonical bytes, a CID that names the code, refusal of a changed copy."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from app_helpers import EXAMPLES

from flchain.app.archive import app_cid, fetch_app, pack_app, verify_app
from flchain.exceptions import AppMismatchError, ConfigError
from flchain.party.workload import load_workload
from flchain.storage.local import LocalStore
from flchain.task.spec import TaskSpec


@pytest.fixture
def app(tmp_path: Path) -> Path:
    copy = tmp_path / "app"
    shutil.copytree(EXAMPLES / "flower-mnist1d", copy)
    return copy


def test_the_archive_is_sorted_normalised_and_leaves_out_caches(app: Path) -> None:
    (app / "mnist1d_app" / "__pycache__").mkdir(exist_ok=True)
    (app / "mnist1d_app" / "__pycache__" / "task.cpython-311.pyc").write_bytes(b"\0")
    (app / ".git").mkdir()
    (app / ".git" / "HEAD").write_text("ref")
    with tarfile.open(fileobj=io.BytesIO(pack_app(app))) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert "pyproject.toml" in names and "mnist1d_app/client_app.py" in names
    assert not any("__pycache__" in n or n.startswith(".git") for n in names)
    assert {(m.mtime, m.mode, m.uid, m.gid, m.uname) for m in members} == {(0, 0o644, 0, 0, "")}


def test_the_cid_depends_on_content_only(app: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "renamed"
    shutil.copytree(app, other)
    (other / "pyproject.toml").touch()  # a new mtime changes nothing
    assert app_cid(other) == app_cid(app)
    assert app_cid(app) == app_cid(EXAMPLES / "flower-mnist1d")


def test_one_changed_byte_makes_the_copy_refused_naming_both_cids(app: Path) -> None:
    certified = app_cid(app)
    verify_app(app, certified)
    task = app / "mnist1d_app" / "task.py"
    data = bytearray(task.read_bytes())
    data[100] ^= 1
    task.write_bytes(bytes(data))
    local = app_cid(app)
    assert local != certified
    with pytest.raises(AppMismatchError) as caught:
        verify_app(app, certified)
    assert certified in str(caught.value) and local in str(caught.value)
    spec = TaskSpec(
        dataset="app", partition="app", arch="app:x", clients=3, miners=2, app=certified
    )
    with pytest.raises(AppMismatchError, match=certified):
        load_workload(spec, app_dir=app)  # what every client and miner does at start


def test_a_task_that_runs_an_app_needs_a_copy(app: Path) -> None:
    spec = TaskSpec(dataset="app", partition="app", arch="app:x", app=app_cid(app))
    with pytest.raises(ConfigError, match="--app DIR"):
        load_workload(spec)


def test_the_pinned_archive_unpacks_to_the_same_cid(app: Path, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    cid = store.put(pack_app(app))
    assert cid == app_cid(app)
    root = fetch_app(store, cid, tmp_path / "fetched")
    assert app_cid(root) == cid
    assert (root / "mnist1d_app" / "client_app.py").read_bytes() == (
        app / "mnist1d_app" / "client_app.py"
    ).read_bytes()


def test_a_symbolic_link_in_the_app_is_refused(app: Path) -> None:
    (app / "link.py").symlink_to(app / "pyproject.toml")
    with pytest.raises(ConfigError, match="symbolic link"):
        pack_app(app)
