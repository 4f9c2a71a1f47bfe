"""``flchain store`` as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from flchain_cli import run_flchain

from flchain.exceptions import ConfigError
from flchain.storage import LocalStore, compute_cid, open_store
from flchain.storage.kubo import KuboStore


def _flchain(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_flchain(*args, cwd=cwd, timeout=120)


def test_add_get_stat_pin_gc(tmp_path: Path) -> None:
    data = os.urandom(700_000)
    (tmp_path / "model.bin").write_bytes(data)
    added = _flchain("store", "add", "model.bin", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    cid = added.stdout.strip()
    assert cid == compute_cid(data).encode()
    assert (tmp_path / ".flchain" / "store" / "pins" / cid).exists()  # the default location

    v0 = _flchain("store", "add", "model.bin", "--cid-version", "0", cwd=tmp_path)
    assert v0.stdout.strip() == compute_cid(data, 0).encode()

    got = _flchain("store", "get", cid, "-o", "copy.bin", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "copy.bin").read_bytes() == data

    stat = json.loads(_flchain("store", "stat", cid, cwd=tmp_path).stdout)
    assert stat == {"cid": cid, "size": len(data), "codec": "dag-pb"}

    assert _flchain("store", "unpin", cid, cwd=tmp_path).stdout.strip() == f"unpinned {cid}"
    gc = _flchain("store", "gc", cwd=tmp_path)
    assert gc.returncode == 0 and gc.stdout.startswith("removed 4 blocks")
    missing = _flchain("store", "get", cid, "-o", "again.bin", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: no block") and missing.stderr.count("\n") == 1
    assert not (tmp_path / "again.bin").exists()


def test_export_import_between_store_dirs(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    data = [os.urandom(300_000), os.urandom(10)]
    cids = []
    for i, blob in enumerate(data):
        (tmp_path / f"f{i}").write_bytes(blob)
        cids.append(_flchain("store", "add", f"f{i}", "--store", a, cwd=tmp_path).stdout.strip())
    exported = _flchain("store", "export", *cids, "-o", "run.car", "--store", a, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "2 roots" in exported.stdout
    imported = _flchain("store", "import", "run.car", "--store", b, cwd=tmp_path)
    assert imported.stdout.split() == cids
    for cid, blob in zip(cids, data, strict=True):
        assert LocalStore(b).get(cid) == blob


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("store", "get", "not-a-cid", "-o", "x"), "bad CID"),
        (("store", "add", "absent.bin"), "absent.bin"),
        (("store", "add", "f", "--cid-version", "2"), "cid_version"),
        (("store", "import", "f"), "CAR"),
        (("store", "pins", "--store", "s", "--kubo", "http://127.0.0.1:1"), "not both"),
        (("store", "get", compute_cid(b"f").encode(), "-o", "x", "--max-size", "0"), "limit"),
    ],
)
def test_errors_are_one_line_and_non_zero(
    tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    (tmp_path / "f").write_bytes(b"f")
    _flchain("store", "add", "f", cwd=tmp_path)
    out = _flchain(*args, cwd=tmp_path)
    assert out.returncode != 0
    assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1
    assert needle in out.stderr


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path / "s", None), LocalStore)
    kubo = open_store(None, "http://127.0.0.1:5001")
    assert isinstance(kubo, KuboStore)
    kubo.close()
    with pytest.raises(ConfigError):
        open_store(tmp_path, "http://127.0.0.1:5001")
    with pytest.raises(ConfigError, match="http"):
        open_store(None, "127.0.0.1:5001")
