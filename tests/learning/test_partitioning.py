"""Partitions cover every example exactly once, follow their scheme, and keep miners apart."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flchain.exceptions import DatasetError
from flchain.learning.data import load_dataset
from flchain.learning.partition import partition, split_for_federation

LABELS = np.repeat(np.arange(10), 60)


@given(
    scheme=st.sampled_from(["iid", "dirichlet:0.3", "dirichlet:5", "shards:2"]),
    n=st.integers(1, 25),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=40, deadline=None)
def test_every_example_goes_to_exactly_one_client(scheme: str, n: int, seed: int) -> None:
    parts = partition(LABELS, n, scheme, seed)
    assert len(parts) == n
    joined = np.concatenate(parts)
    np.testing.assert_array_equal(np.sort(joined), np.arange(len(LABELS)))
    again = partition(LABELS, n, scheme, seed)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))


def _label_entropy(parts: list[np.ndarray]) -> float:
    ent = []
    for p in parts:
        counts = np.bincount(LABELS[p], minlength=10) / len(p)
        nz = counts[counts > 0]
        ent.append(-(nz * np.log(nz)).sum())
    return float(np.mean(ent))


def test_dirichlet_skew_grows_as_alpha_shrinks() -> None:
    iid = _label_entropy(partition(LABELS, 10, "iid", 0))
    mild = _label_entropy(partition(LABELS, 10, "dirichlet:10", 0))
    harsh = _label_entropy(partition(LABELS, 10, "dirichlet:0.1", 0))
    assert iid > mild > harsh
    assert iid > 0.95 * np.log(10)


def test_shards_give_each_client_few_labels() -> None:
    parts = partition(LABELS, 10, "shards:2", 3)
    assert all(len(np.unique(LABELS[p])) <= 2 for p in parts)
    assert all(len(p) == 60 for p in parts)


def test_iid_sizes_are_balanced_and_seed_matters() -> None:
    parts = partition(LABELS, 7, "iid", 1)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert not np.array_equal(parts[0], partition(LABELS, 7, "iid", 2)[0])


@pytest.mark.parametrize(
    ("scheme", "message"),
    [
        ("zipf:2", "unknown partition"),
        ("dirichlet:-1", "alpha must be > 0"),
        ("dirichlet:abc", "must be a number"),
        ("shards:1.5", "positive integer"),
        ("iid:3", "takes no parameter"),
    ],
)
def test_bad_schemes_are_named(scheme: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        partition(LABELS, 4, scheme, 0)


def test_too_many_clients_is_an_error() -> None:
    with pytest.raises(DatasetError, match="cannot give"):
        partition(np.arange(5), 6, "iid", 0)
    with pytest.raises(DatasetError, match="at least one client"):
        partition(LABELS, 0, "iid", 0)


def test_federation_keeps_miner_validation_disjoint_from_client_data() -> None:
    ds = load_dataset("digits")
    fed = split_for_federation(ds, n_clients=8, n_miners=3, scheme="dirichlet:0.5", seed=4)
    client_all = np.concatenate(fed.client_indices)
    miner_all = np.concatenate(fed.miner_indices)
    assert len(fed.miners) == 3 and all(len(m[1]) > 0 for m in fed.miners)
    assert np.intersect1d(client_all, miner_all).size == 0
    assert len(np.unique(client_all)) == len(client_all)
    assert len(client_all) + len(miner_all) == len(ds.y_train)
    for c, idx in zip(fed.clients, fed.client_indices, strict=True):
        assert len(c.y_test) >= 1 and c.num_samples >= 1
        assert c.num_samples + len(c.y_test) == len(idx)
        assert sorted(np.concatenate([c.y_train, c.y_test])) == sorted(ds.y_train[idx])
    assert fed.test[0].shape[0] == len(ds.y_test)


def test_federation_without_miners_holds_nothing_out() -> None:
    ds = load_dataset("digits")
    fed = split_for_federation(ds, n_clients=4, n_miners=0, client_test_fraction=0.0)
    assert fed.miners == ()
    assert sum(c.num_samples for c in fed.clients) == len(ds.y_train)
