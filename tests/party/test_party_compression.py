"""Compressed updates through whole rounds on the in-memory chain: every party rebuilds the
same models and aggregates, and a malformed compressed update scores 0 with its reason."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from party_world import World

import miners.miner
from clients.client import Client
from clients.pooled import PooledClient
from flchain.party.workload import load_workload
from flchain.storage.codec import ModelMeta, encode_weights
from flchain.types import CIDStr, RoundId, Weights


@pytest.fixture(autouse=True)
def _quick_finalize(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(miners.miner, "FINALIZE_STAGGER_S", 0.01)


@pytest.mark.parametrize("setting", ["topk:0.1", "q8"])
def test_compressed_rounds_agree_bit_for_bit_in_every_party(tmp_path: Path, setting: str) -> None:
    world = World(tmp_path, clients=3, rounds=2, compression=setting)
    with ThreadPoolExecutor(1) as compute:
        pooled = PooledClient(world.party("client", 2), load_workload(world.spec), 2)
        pooled.workers = compute
        parties = [world.client(0), world.client(1), pooled, *world.miners()]
        assert world.play(*parties) == [0] * 6  # no client saw a mismatch; nobody failed
    initial = load_workload(world.spec).program.initial_weights()
    whole = len(encode_weights(initial, ModelMeta(RoundId(0), parties[0].party.address, "x")))
    for r in (0, 1):
        rd = world.chain.rounds[r]
        assert rd.accepted == [0, 1, 2] and rd.certified is not None
        for role, n in (("client", 3), ("miner", 3)):
            for i in range(n):
                local = [e["cid"] for e in world.events(role, i, "aggregated") if e["round"] == r]
                assert local == [rd.certified], (role, i)
    for i in range(3):
        assert [e["round"] for e in world.events("client", i, "verified")] == [0, 1]
        sizes = [e["bytes"] for e in world.events("client", i, "pinned")]
        assert len(sizes) == 2 and all(size < 0.3 * whole for size in sizes)
    # top-k's error feedback is each client's own, pooled or not
    compressors = [p.compressor for p in parties[:3] if isinstance(p, Client)]
    assert len({id(c) for c in compressors}) == 3
    if setting.startswith("topk"):
        assert all(c is not None and c.residual is not None for c in compressors)


class UnsortedTopK(Client):
    """Pins a top-k update whose indices are out of order (a hand-made file)."""

    def pin(self, r: int, weights: Weights) -> CIDStr:
        assert self.global_model is not None
        meta = ModelMeta(
            RoundId(r), self.party.address, self.party.spec.arch, self.global_model.cid
        )
        arrays = {
            "indices": np.array([9, 1, 5], dtype=np.uint32),
            "values": np.full(3, 0.1, dtype=np.float32),
        }
        data = encode_weights(arrays, replace(meta, compression=self.party.spec.compression))
        return self.party.store.put(data)


def test_a_malformed_compressed_update_scores_zero_with_its_reason(tmp_path: Path) -> None:
    world = World(tmp_path, clients=3, compression="topk:0.1")
    bad = UnsortedTopK(world.party("client", 2), load_workload(world.spec), 2)
    results = world.play(world.client(0), world.client(1), bad, *world.miners())
    assert results == [0] * 6  # the miners went on; the honest clients verified
    rd = world.chain.rounds[0]
    (i,) = [s.index for s in rd.submissions if s.client == bad.party.address]
    assert rd.accepted == sorted({0, 1, 2} - {i})
    for j in range(3):
        (scored,) = world.events("miner", j, "scored")
        assert scored["scores"][i] == 0
        assert scored["reasons"][i] == (
            "integrity: CompressedUpdateError: top-k indices are not strictly increasing"
        )
