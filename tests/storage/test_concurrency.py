"""Many OS processes on one LocalStore directory: writers, readers, GC, and a killed writer."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from flchain.exceptions import ContentNotFoundError
from flchain.storage import CID, LocalStore, compute_cid

WRITERS = 4
SHARED = 4
DISTINCT = 5


def _content(seed: int) -> bytes:
    rng = random.Random(seed)
    return rng.randbytes(rng.randint(1, 1_500_000))


def _version(seed: int) -> int:
    return seed % 2


def _writer(root: str, index: int, out: str) -> None:
    store = LocalStore(root)
    done = []
    seeds = [*range(SHARED), *(1000 * (index + 1) + i for i in range(DISTINCT))]
    random.Random(index).shuffle(seeds)
    for seed in seeds:
        pin = seed < SHARED or seed % 2 == 0
        cid = store.put(_content(seed), cid_version=_version(seed), pin=pin)
        done.append([seed, cid, pin])
    Path(out).write_text(json.dumps(done))


def _reader(root: str, cids: dict[str, int], stop: str, out: str) -> None:
    store = LocalStore(root)
    ok = missing = bad = 0
    final = False
    while not final:
        final = Path(stop).exists()
        for cid, seed in cids.items():
            try:
                ok += store.get(cid) == _content(seed)
            except ContentNotFoundError:
                missing += 1
            except Exception:
                bad += 1
    Path(out).write_text(json.dumps({"ok": ok, "missing": missing, "bad": bad}))


def _collector(root: str, stop: str, out: str) -> None:
    store = LocalStore(root)
    runs = 0
    while not Path(stop).exists():
        store.gc()
        runs += 1
        time.sleep(0.05)
    Path(out).write_text(json.dumps({"runs": runs}))


def _verifies(path: Path) -> bool:
    """A block file's bytes hash to the multihash in its name."""
    key = path.name.removesuffix(".data")
    multihash = base64.b32decode(key + "=" * (-len(key) % 8))
    return hashlib.sha256(path.read_bytes()).digest() == multihash[2:]


def _visible_blocks(root: Path) -> list[Path]:
    """Files a reader could open: everything but ``.tmp-*`` files."""
    files = [p for p in (root / "blocks").rglob("*") if p.is_file()]
    return [p for p in files if not p.name.startswith(".tmp-")]


def test_writers_readers_and_gc_in_parallel(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalStore(root)
    ctx = multiprocessing.get_context("spawn")
    stop = tmp_path / "stop"
    shared = {compute_cid(_content(s), _version(s)).encode(): s for s in range(SHARED)}
    writers = [
        ctx.Process(target=_writer, args=(str(root), i, str(tmp_path / f"w{i}.json")))
        for i in range(WRITERS)
    ]
    readers = [
        ctx.Process(target=_reader, args=(str(root), shared, str(stop), str(tmp_path / f"r{i}")))
        for i in range(2)
    ]
    gc = ctx.Process(target=_collector, args=(str(root), str(stop), str(tmp_path / "gc.json")))
    for p in (*writers, *readers, gc):
        p.start()
    for p in writers:
        p.join(120)
        assert p.exitcode == 0
    stop.touch()
    for p in (*readers, gc):
        p.join(120)
        assert p.exitcode == 0

    store = LocalStore(root)
    pinned = set(store.pins())
    for i in range(WRITERS):
        for seed, cid, pin in json.loads((tmp_path / f"w{i}.json").read_text()):
            assert cid == compute_cid(_content(seed), _version(seed)).encode()
            if pin:
                assert cid in pinned
                assert store.get(cid) == _content(seed)
    for i in range(2):
        stats = json.loads((tmp_path / f"r{i}").read_text())
        assert stats["bad"] == 0 and stats["ok"] >= len(shared)
    assert json.loads((tmp_path / "gc.json").read_text())["runs"] >= 1
    store.gc()
    blocks = _visible_blocks(root)
    assert blocks and all(p.name.endswith(".data") and _verifies(p) for p in blocks)


_KILLED_WRITER = """
import sys
from flchain.storage import LocalStore
LocalStore(sys.argv[1], fsync=True).put_file(sys.argv[2])
"""


def test_writer_killed_mid_write_leaves_nothing_partial(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(48 << 20))
    root = tmp_path / "store"
    store = LocalStore(root)
    for delay_blocks in (1, 20, 60):
        child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(root), str(big)])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(1 for _ in (root / "blocks").rglob("*.data")) >= delay_blocks:
                break
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
        assert all(_verifies(p) for p in _visible_blocks(root))
    assert store.pins() == []
    result = store.gc()
    assert result.kept_blocks == 0
    assert not list((root / "blocks").rglob(".tmp-*"))
    cid = store.put_file(big)
    assert store.get(cid) == big.read_bytes()
    assert CID.parse(cid) == compute_cid(big.read_bytes())
