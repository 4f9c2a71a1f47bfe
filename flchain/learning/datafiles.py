"""Loaders for data files users bring: MNIST-style IDX, CIFAR-10 batches, ``.npz``.

* IDX (MNIST, Fashion-MNIST): the four files ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``, each optionally ``.gz``. Pixels scaled to [0, 1].
* CIFAR-10: the official "python version" directory (``data_batch_1`` ..
  ``data_batch_5``, ``test_batch``). Those files are Python pickles, which can
  run code when loaded: this loader is for the user's own local copy of the
  official archive only. FLchain never unpickles anything received from peers
  (models travel as safetensors).
* ``.npz``: arrays ``x`` and ``y``, and optionally ``x_test``/``y_test``; without
  a test split, a seeded 20 % of the examples is held out. Loaded with
  ``allow_pickle=False``.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from flchain.exceptions import DatasetError
from flchain.learning.data import Dataset, make_dataset

_IDX_DTYPES: dict[int, Any] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def load_file_dataset(name: str, path: Path) -> Dataset:
    """Dispatch on the data set name; ``path`` is a directory (IDX, CIFAR) or a file (npz)."""
    if not path.exists():
        raise DatasetError(f"{name}: {path} does not exist")
    if name in ("mnist", "fashion-mnist"):
        return load_idx_dataset(path, name)
    if name == "cifar10":
        return load_cifar10(path)
    if name == "npz":
        return load_npz(path)
    raise DatasetError(f"no file loader for data set {name!r}")


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (raw or gzip-compressed) into an array of its declared shape."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetError(f"{path} is not an IDX file (bad magic)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise DatasetError(f"{path}: unknown IDX element type 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetError(
            f"{path}: IDX header declares {expected} data bytes, file has {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find(directory: Path, stem: str) -> Path:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    # Some mirrors write "train-images.idx3-ubyte".
    alt = stem.replace("-idx", ".idx")
    for candidate in (directory / alt, directory / f"{alt}.gz"):
        if candidate.is_file():
            return candidate
    raise DatasetError(f"{directory}: missing {stem}[.gz]")


def load_idx_dataset(directory: Path, name: str = "mnist") -> Dataset:
    """Load MNIST or Fashion-MNIST from the four IDX files in ``directory``."""
    x_tr = read_idx(_find(directory, "train-images-idx3-ubyte"))
    y_tr = read_idx(_find(directory, "train-labels-idx1-ubyte"))
    x_te = read_idx(_find(directory, "t10k-images-idx3-ubyte"))
    y_te = read_idx(_find(directory, "t10k-labels-idx1-ubyte"))
    if x_tr.shape[0] != y_tr.shape[0] or x_te.shape[0] != y_te.shape[0]:
        raise DatasetError(f"{directory}: image and label counts differ")
    scale = 255.0 if x_tr.dtype == np.uint8 else 1.0
    return make_dataset(
        name, x_tr.astype(np.float32) / scale, y_tr, x_te.astype(np.float32) / scale, y_te, 10
    )


def _unpickle_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open("rb") as fh:
            batch = pickle.load(fh, encoding="bytes")  # the user's own official CIFAR-10 file
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DatasetError(f"cannot read CIFAR-10 batch {path}: {exc}") from exc
    if not isinstance(batch, dict):
        raise DatasetError(f"{path}: not a CIFAR-10 batch (expected a dict)")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DatasetError(f"{path}: CIFAR-10 batch lacks 'data' or 'labels'")
    x = np.asarray(data, dtype=np.uint8)
    if x.ndim != 2 or x.shape[1] != 3072:
        raise DatasetError(f"{path}: CIFAR-10 data must be N×3072 bytes, got {x.shape}")
    return x, np.asarray(labels, dtype=np.int64)


def load_cifar10(directory: Path) -> Dataset:
    """Load the official CIFAR-10 python batches from ``directory`` (rows are CHW, 3072 bytes)."""
    train = sorted(directory.glob("data_batch_*"))
    test = directory / "test_batch"
    if not train or not test.is_file():
        raise DatasetError(f"{directory}: expected data_batch_1..5 and test_batch")
    parts = [_unpickle_batch(p) for p in train]
    x_tr = np.concatenate([p[0] for p in parts]).astype(np.float32) / 255.0
    y_tr = np.concatenate([p[1] for p in parts])
    x_te, y_te = _unpickle_batch(test)
    return make_dataset("cifar10", x_tr, y_tr, x_te.astype(np.float32) / 255.0, y_te, 10)


def load_npz(path: Path, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Load arrays ``x``/``y`` (and optional ``x_test``/``y_test``) from an ``.npz`` file."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"cannot read {path} as .npz: {exc}") from exc
    if "x" not in arrays or "y" not in arrays:
        raise DatasetError(f"{path}: .npz must hold arrays 'x' and 'y', found {sorted(arrays)}")
    x, y = arrays["x"], arrays["y"]
    if "x_test" in arrays and "y_test" in arrays:
        return make_dataset(path.stem, x, y, arrays["x_test"], arrays["y_test"])
    n = len(y)
    if n < 2 or len(x) != n:
        raise DatasetError(f"{path}: need at least 2 examples and one label per example")
    order = np.random.default_rng(seed).permutation(n)
    cut = max(1, round(n * test_fraction))
    test_idx, train_idx = np.sort(order[:cut]), np.sort(order[cut:])
    return make_dataset(path.stem, x[train_idx], y[train_idx], x[test_idx], y[test_idx])
