"""Data sets: built-in real data and loaders for files users bring.

Built in (no network, ever):

* ``digits``: scikit-learn's 8×8 handwritten digits (1,797 images, scaled to
  [0, 1]; read from the CSV scikit-learn ships, without importing it); a
  stratified 75/25 train/test split with a fixed seed. The default.
* ``mnist1d``: MNIST-1D (Greydanus, "Scaling down deep learning", 2020),
  generated locally with ``mnist1d.data.make_dataset`` (4,000 train / 1,000
  test sequences of length 40). The package's download helper is never used.
  ``mnist1d-<N>`` generates ``N`` sequences instead of 5,000 (80 % train), for
  federations of hundreds or thousands of clients.

From local files (see :mod:`flchain.learning.datafiles`): ``mnist`` and
``fashion-mnist`` (IDX, gzipped or raw), ``cifar10`` (the official python
pickle batches) and ``npz`` (arrays ``x`` and ``y``, optionally ``x_test`` and
``y_test``).

Every :class:`Dataset` holds float32 features with one row per example and
int64 labels; models reshape rows to images themselves.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import os
import random
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flchain.exceptions import DatasetError

BUILTIN_DATASETS: tuple[str, ...] = ("digits", "mnist1d")
FILE_DATASETS: tuple[str, ...] = ("mnist", "fashion-mnist", "cifar10", "npz")
MNIST1D_SAMPLES = (1_000, 2_000_000)
"""The range of ``N`` in ``mnist1d-<N>``."""
_SIZED_MNIST1D = re.compile(r"mnist1d-(\d{1,7})")


@dataclass(frozen=True)
class Dataset:
    """A train/test pair of (features, labels) arrays."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def num_features(self) -> int:
        """Width of one flattened example."""
        return int(self.x_train.shape[1])


def make_dataset(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    num_classes: int | None = None,
) -> Dataset:
    """Validate and normalise arrays into a :class:`Dataset` (float32 rows, int64 labels)."""
    parts = {"x_train": x_train, "x_test": x_test}
    flat = {}
    for key, x in parts.items():
        x = np.asarray(x)
        if x.ndim < 2 or x.shape[0] == 0:
            raise DatasetError(f"{name}: {key} must have at least one example, got shape {x.shape}")
        x = x.reshape(x.shape[0], -1).astype(np.float32)
        if not np.all(np.isfinite(x)):
            raise DatasetError(f"{name}: {key} contains NaN or infinity")
        flat[key] = x
    labels = {}
    for key, y, x in (("y_train", y_train, flat["x_train"]), ("y_test", y_test, flat["x_test"])):
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise DatasetError(f"{name}: {key} must be 1-D with one label per example")
        if not np.issubdtype(y.dtype, np.integer) and not np.all(np.equal(np.mod(y, 1), 0)):
            raise DatasetError(f"{name}: {key} labels must be integers")
        y = y.astype(np.int64)
        if y.size and y.min() < 0:
            raise DatasetError(f"{name}: {key} labels must be >= 0")
        labels[key] = y
    if flat["x_train"].shape[1] != flat["x_test"].shape[1]:
        raise DatasetError(f"{name}: train and test examples differ in width")
    inferred = int(max(labels["y_train"].max(), labels["y_test"].max())) + 1
    classes = inferred if num_classes is None else num_classes
    if classes < inferred:
        raise DatasetError(f"{name}: label {inferred - 1} out of range for {classes} classes")
    return Dataset(
        name, flat["x_train"], labels["y_train"], flat["x_test"], labels["y_test"], classes
    )


def load_dataset(name: str = "digits", path: str | Path | None = None) -> Dataset:
    """Load a data set by name; file-backed sets need ``path`` (a directory or ``.npz`` file)."""
    key = name.lower()
    if key == "digits":
        return _digits()
    if key == "mnist1d":
        return _mnist1d()
    sized = _SIZED_MNIST1D.fullmatch(key)
    if sized:
        n = int(sized.group(1))
        lo, hi = MNIST1D_SAMPLES
        if not lo <= n <= hi:
            raise DatasetError(f"data set {name!r}: mnist1d-<N> takes N in {lo}..{hi}")
        return _mnist1d(n)
    if key in FILE_DATASETS:
        if path is None:
            raise DatasetError(f"data set {name!r} is read from your files: give its path")
        from flchain.learning import datafiles

        return datafiles.load_file_dataset(key, Path(path))
    known = ", ".join((*BUILTIN_DATASETS, "mnist1d-<N>", *FILE_DATASETS))
    raise DatasetError(f"unknown data set {name!r}; known: {known}")


def stratified_split(
    y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split of example indices into (train, test), both sorted."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        cut = round(len(idx) * test_fraction)
        test.append(idx[:cut])
        train.append(idx[cut:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@functools.cache
def _digits() -> Dataset:
    # Read the CSV that ships inside scikit-learn rather than importing it
    # (importing scikit-learn pulls in SciPy, which costs seconds per process).
    spec = importlib.util.find_spec("sklearn")
    csv = (
        Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
        if spec and spec.origin
        else None
    )
    if csv is not None and csv.is_file():
        with gzip.open(csv, "rt") as fh:
            raw = np.loadtxt(fh, delimiter=",", dtype=np.float64)
        x, y = raw[:, :64], raw[:, 64].astype(np.int64)
    else:  # pragma: no cover - a scikit-learn without the bundled CSV
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x, y = bunch.data, bunch.target.astype(np.int64)
    if x.shape != (1797, 64):
        raise DatasetError(f"scikit-learn's digits data has shape {x.shape}, expected (1797, 64)")
    train, test = stratified_split(y, 0.25, seed=0)
    x = (x / 16.0).astype(np.float32)
    return make_dataset("digits", x[train], y[train], x[test], y[test], num_classes=10)


def family(name: str) -> str:
    """The data set a name is a variant of: ``mnist1d`` for ``mnist1d-<N>``, else itself."""
    key = name.lower()
    return "mnist1d" if _SIZED_MNIST1D.fullmatch(key) else key


def is_generated(name: str) -> bool:
    """Whether a built-in set is generated (seconds or more: worth caching on disk)."""
    key = name.lower()
    return key == "mnist1d" or _SIZED_MNIST1D.fullmatch(key) is not None


def cache_dir() -> Path:
    """Where generated data sets are kept between processes (``$FLCHAIN_CACHE``)."""
    return Path(os.environ.get("FLCHAIN_CACHE", Path.home() / ".cache" / "flchain"))


def cached_dataset(name: str) -> Dataset:
    """``load_dataset(name)``, through the on-disk cache for slow generated sets."""
    if not is_generated(name):
        return load_dataset(name)
    path = cache_dir() / f"{name}.npz"
    if path.exists():
        try:
            with np.load(path) as z:
                return make_dataset(
                    name, z["x_train"], z["y_train"], z["x_test"], z["y_test"], int(z["classes"])
                )
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
    dataset = load_dataset(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as out:
        np.savez(
            out,
            x_train=dataset.x_train,
            y_train=dataset.y_train,
            x_test=dataset.x_test,
            y_test=dataset.y_test,
            classes=dataset.num_classes,
        )
    os.replace(tmp, path)
    return dataset


@functools.cache
def _mnist1d(num_samples: int | None = None) -> Dataset:
    from mnist1d.data import get_dataset_args
    from mnist1d.data import make_dataset as make_mnist1d

    args = get_dataset_args()
    if num_samples is not None:
        args.num_samples = num_samples
    # make_dataset reseeds the global RNGs; put them back afterwards.
    np_state = np.random.get_state()
    py_state = random.getstate()
    try:
        raw = make_mnist1d(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    name = "mnist1d" if num_samples is None else f"mnist1d-{num_samples}"
    return make_dataset(name, raw["x"], raw["y"], raw["x_test"], raw["y_test"], num_classes=10)
