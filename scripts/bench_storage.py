"""Throughput of the embedded store: ``put_file`` and verified ``get``.

Usage: python scripts/bench_storage.py [--json] [--repeat N] [--fsync] [--dir DIR]

For 1, 10 and 50 MB of random bytes, times ``LocalStore.put_file`` into an
empty store and ``LocalStore.get`` (every block re-hashed) from it, and
reports the best of N runs in MB/s (1 MB = 10**6 bytes). ``put_mb_s`` and
``get_mb_s`` are the 50 MB figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from flchain.storage import LocalStore, compute_file_cid

SIZES_MB = (1, 10, 50)


def _best(times: list[float]) -> float:
    return min(times)


def bench_size(work: Path, size_mb: int, repeat: int, fsync: bool) -> dict[str, float]:
    src = work / f"input-{size_mb}.bin"
    src.write_bytes(os.urandom(size_mb * 1_000_000))
    put_t, get_t, stream_t, cid_t = [], [], [], []
    for i in range(repeat):
        store = LocalStore(work / f"store-{size_mb}-{i}", fsync=fsync)
        start = time.perf_counter()
        cid = store.put_file(src)
        put_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        data = store.get(cid)
        get_t.append(time.perf_counter() - start)
        assert len(data) == size_mb * 1_000_000
        del data
        start = time.perf_counter()
        for _ in store.iter_content(cid):
            pass
        stream_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        compute_file_cid(src)
        cid_t.append(time.perf_counter() - start)
        shutil.rmtree(store.root)
    return {
        "put_mb_s": round(size_mb / _best(put_t), 1),
        "get_mb_s": round(size_mb / _best(get_t), 1),
        "stream_mb_s": round(size_mb / _best(stream_t), 1),
        "cid_only_mb_s": round(size_mb / _best(cid_t), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (best is kept)")
    parser.add_argument("--fsync", action="store_true", help="fsync every block (durable mode)")
    parser.add_argument("--dir", type=Path, default=None, help="where to create temp stores")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        sizes = {str(mb): bench_size(Path(tmp), mb, args.repeat, args.fsync) for mb in SIZES_MB}
    result = {
        "put_mb_s": sizes["50"]["put_mb_s"],
        "get_mb_s": sizes["50"]["get_mb_s"],
        "fsync": args.fsync,
        "sizes_mb": sizes,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'size':>6} {'put MB/s':>9} {'get MB/s':>9} {'stream':>9} {'cid only':>9}")
    for mb, row in sizes.items():
        print(
            f"{mb + ' MB':>6} {row['put_mb_s']:>9} {row['get_mb_s']:>9} "
            f"{row['stream_mb_s']:>9} {row['cid_only_mb_s']:>9}"
        )


if __name__ == "__main__":
    main()
