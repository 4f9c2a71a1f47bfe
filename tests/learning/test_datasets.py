"""Built-in data sets and the loaders for files users bring (written here, read back)."""

from __future__ import annotations

import gzip
import pickle
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from flchain.exceptions import DatasetError
from flchain.learning.data import _mnist1d, family, is_generated, load_dataset, make_dataset
from flchain.learning.datafiles import read_idx
from flchain.learning.models import default_arch


def test_digits_is_scaled_split_and_stratified() -> None:
    ds = load_dataset("digits")
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.shape[1] == 64 and ds.num_classes == 10
    assert len(ds.y_train) + len(ds.y_test) == 1797
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert set(np.unique(ds.y_test)) == set(range(10))


def test_mnist1d_is_generated_locally_and_leaves_global_rng_alone() -> None:
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    _mnist1d.cache_clear()  # generate for real, even if another test loaded it
    ds = load_dataset("mnist1d")
    assert np.random.rand() == expected_np and random.random() == expected_py
    assert ds.x_train.shape == (4000, 40) and ds.x_test.shape == (1000, 40)
    assert set(np.unique(ds.y_train)) == set(range(10))


def test_mnist1d_takes_a_sample_count_for_large_federations() -> None:
    ds = load_dataset("mnist1d-1000")
    assert ds.name == "mnist1d-1000"
    assert ds.x_train.shape == (800, 40) and ds.x_test.shape == (200, 40)
    assert is_generated("mnist1d-1000") and is_generated("MNIST1D") and not is_generated("digits")
    assert family("mnist1d-1000") == "mnist1d" and default_arch("mnist1d-1000", 40) == "mnist1d-cnn"
    for bad in ("mnist1d-999", "mnist1d-2000001"):
        with pytest.raises(DatasetError, match=r"mnist1d-<N> takes N in 1000\.\.2000000"):
            load_dataset(bad)
    with pytest.raises(DatasetError, match="mnist1d-<N>"):
        load_dataset("mnist1d-x")


def _write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_directory_round_trips(tmp_path: Path, compress: bool) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 12),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 5),
    }
    for stem, arr in arrays.items():
        _write_idx(tmp_path / (stem + (".gz" if compress else "")), arr, compress)
    ds = load_dataset("fashion-mnist", tmp_path)
    assert ds.x_train.shape == (12, 784) and ds.x_test.shape == (5, 784)
    np.testing.assert_allclose(
        ds.x_train, arrays["train-images-idx3-ubyte"].reshape(12, -1) / 255.0, rtol=1e-6
    )
    np.testing.assert_array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])


def test_idx_rejects_bad_magic_and_truncation(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(DatasetError, match="bad magic"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10) + b"abc")
    with pytest.raises(DatasetError, match="declares 10 data bytes"):
        read_idx(short)
    with pytest.raises(DatasetError, match="missing train-images"):
        load_dataset("mnist", tmp_path)


def test_cifar10_batches_load(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for name, n in (("data_batch_1", 4), ("data_batch_2", 3), ("test_batch", 2)):
        batch = {
            b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
            b"labels": rng.integers(0, 10, n).tolist(),
        }
        with (tmp_path / name).open("wb") as fh:
            pickle.dump(batch, fh)
    ds = load_dataset("cifar10", tmp_path)
    assert ds.x_train.shape == (7, 3072) and ds.x_test.shape == (2, 3072)
    assert ds.x_train.max() <= 1.0


def test_cifar10_wrong_shape_is_reported(tmp_path: Path) -> None:
    for name in ("data_batch_1", "test_batch"):
        with (tmp_path / name).open("wb") as fh:
            pickle.dump({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(DatasetError, match="N×3072"):
        load_dataset("cifar10", tmp_path)


def test_npz_with_and_without_test_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(50, 6)), rng.integers(0, 3, 50)
    np.savez(tmp_path / "plain.npz", x=x, y=y)
    ds = load_dataset("npz", tmp_path / "plain.npz")
    assert len(ds.y_train) == 40 and len(ds.y_test) == 10 and ds.num_classes == 3
    np.savez(tmp_path / "split.npz", x=x, y=y, x_test=x[:5], y_test=y[:5])
    assert len(load_dataset("npz", tmp_path / "split.npz").y_test) == 5
    np.savez(tmp_path / "wrong.npz", features=x)
    with pytest.raises(DatasetError, match="'x' and 'y'"):
        load_dataset("npz", tmp_path / "wrong.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset("npz", tmp_path / "junk.npz")


def test_bad_names_paths_and_arrays() -> None:
    with pytest.raises(DatasetError, match="unknown data set"):
        load_dataset("imagenet")
    with pytest.raises(DatasetError, match="give its path"):
        load_dataset("mnist")
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("npz", "/nonexistent/file.npz")
    x = np.zeros((3, 2))
    with pytest.raises(DatasetError, match="NaN"):
        make_dataset("t", np.full((3, 2), np.nan), [0, 1, 0], x, [0, 1, 0])
    with pytest.raises(DatasetError, match="integers"):
        make_dataset("t", x, [0.5, 1, 0], x, [0, 1, 0])
    with pytest.raises(DatasetError, match="one label per example"):
        make_dataset("t", x, [0, 1], x, [0, 1, 0])
