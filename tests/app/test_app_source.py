"""A task module's source: located by path or name, certified by CID, a changed copy refused."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from task_helpers import DATA, MODEL, spec_of, write_task

from flchain.app.archive import fetch_program
from flchain.app.source import fetch_task, import_task, locate_task, verify_task
from flchain.exceptions import AppMismatchError, ConfigError
from flchain.party.workload import load_workload
from flchain.storage.local import LocalStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pytorch-task" / "mnist1d_task.py"


def _entries(archive: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return tar.getnames()


def test_a_lone_file_is_certified_alone_and_its_cid_names_its_content(tmp_path: Path) -> None:
    path = write_task(tmp_path)
    (tmp_path / "notes.txt").write_text("not part of the module")
    source = locate_task(path)
    assert (source.name, source.packaged) == (path.stem, False)
    assert _entries(source.archive()) == [path.name]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(path, elsewhere / path.name)
    assert locate_task(elsewhere / path.name).cid() == source.cid()  # content, not place


def test_one_changed_byte_makes_a_copy_refused_naming_both_cids(tmp_path: Path) -> None:
    path = write_task(tmp_path)
    spec = spec_of(path)
    certified = spec.task.cid
    tampered = tmp_path / "copy" / path.name
    tampered.parent.mkdir()
    tampered.write_bytes(path.read_bytes().replace(b"Linear(8, 3)", b"Linear(8,  3)"))
    local = locate_task(tampered).cid()
    assert local != certified
    with pytest.raises(AppMismatchError, match="refusing to start") as caught:
        load_workload(spec, task_module=str(tampered))  # what every client and miner does
    assert certified in str(caught.value) and local in str(caught.value)
    assert load_workload(spec, task_module=str(path)).arch is not None
    with pytest.raises(ConfigError, match="--task-module"):
        load_workload(spec)


def test_a_module_in_a_package_certifies_the_package_by_path_or_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "src" / "probe_pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "helpers.py").write_text(MODEL)
    (package / "sub" / "task.py").write_text("from probe_pkg.sub.helpers import model, np\n" + DATA)
    (package / "sub" / "__pycache__").mkdir()
    (package / "sub" / "__pycache__" / "task.cpython-311.pyc").write_bytes(b"\0")
    by_path = locate_task(package / "sub" / "task.py")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    by_name = locate_task("probe_pkg.sub.task")
    assert by_path == by_name and by_path.name == "probe_pkg.sub.task"
    assert _entries(by_path.archive()) == [
        "probe_pkg/__init__.py",
        "probe_pkg/sub/__init__.py",
        "probe_pkg/sub/helpers.py",
        "probe_pkg/sub/task.py",
    ]
    module = import_task(by_path)
    assert callable(module.load_partition) and callable(module.model)
    spec = spec_of(package / "sub" / "task.py")
    assert spec.task.name == "probe_pkg.sub.task"
    for copy in ("probe_pkg.sub.task", str(package / "sub" / "task.py")):  # name or file
        assert load_workload(spec, task_module=copy).program.partitions.count == 6
    before = by_path.cid()
    (package / "sub" / "helpers.py").write_text(MODEL + "\n# changed\n")
    assert locate_task(package / "sub" / "task.py").cid() != before  # a sibling counts


@pytest.mark.parametrize(
    ("reference", "needle"),
    [
        ("no/such/task.py", "neither a .py file nor an importable module"),
        ("no_such_module_anywhere", "no module named 'no_such_module_anywhere'"),
    ],
)
def test_a_module_that_cannot_be_found_is_refused_by_name(reference: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        locate_task(reference)


def test_the_auditor_fetches_the_module_by_cid_and_builds_the_same_program(
    tmp_path: Path,
) -> None:
    spec = spec_of(EXAMPLE, clients=3, miners=3)
    store = LocalStore(tmp_path / "store")
    assert store.put(locate_task(EXAMPLE).archive()) == spec.task.cid
    fetched = fetch_task(store, spec.task, tmp_path / "fetched")
    verify_task(fetched, spec.task)
    assert fetched.path.read_bytes() == EXAMPLE.read_bytes()
    program = fetch_program(store, spec, tmp_path / "again")
    local = load_workload(spec, task_module=str(EXAMPLE)).program
    ours, theirs = program.initial_weights(), local.initial_weights()
    assert all(np.array_equal(ours[k], theirs[k]) for k in ours)
