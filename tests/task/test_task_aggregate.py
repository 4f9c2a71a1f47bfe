"""Every party's aggregate of a round is the same file, whatever the fetch order or process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from flchain.learning.strategies import strategy_from_name
from flchain.storage.builder import compute_cid
from flchain.storage.codec import decode_weights
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, aggregate_round
from flchain.task.spec import TaskSpec
from flchain.types import CIDStr

TASK = "0x" + "12" * 20
PARENT = CIDStr("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")


def _weights(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "a.weight": rng.normal(size=(5, 3)).astype(np.float32),
        "a.bias": rng.normal(size=5).astype(np.float32),
    }


def _updates() -> list[AcceptedUpdate]:
    return [
        AcceptedUpdate(i, CIDStr(f"bafk-update-{i}"), 10 + 7 * i, f"client{i}", _weights(i + 1))
        for i in range(4)
    ]


def _aggregate(updates: list[AcceptedUpdate], strategy: str = "fedavg") -> tuple[str, bytes]:
    model = GlobalModel(3, PARENT, _weights(0))
    result = aggregate_round(
        strategy_from_name(strategy), model, updates, task=TASK, spec=TaskSpec(arch="digits-mlp")
    )
    assert result.data is not None
    assert result.model.round == 4
    return result.model.cid, result.data


def test_order_does_not_matter_and_metadata_is_fixed() -> None:
    updates = _updates()
    cid, data = _aggregate(updates)
    assert _aggregate(list(reversed(updates)))[0] == cid
    assert _aggregate([updates[2], updates[0], updates[3], updates[1]])[0] == cid
    assert compute_cid(data).encode() == cid
    _, meta = decode_weights(data)
    assert (meta.round, meta.author, meta.architecture, meta.parent) == (
        3,
        TASK,
        "digits-mlp",
        PARENT,
    )
    assert _aggregate(updates, "fedmedian")[0] != cid


def test_nothing_accepted_keeps_the_global_model() -> None:
    model = GlobalModel(2, PARENT, _weights(0))
    result = aggregate_round(
        strategy_from_name("fedavg"), model, [], task=TASK, spec=TaskSpec(arch="x")
    )
    assert result.data is None
    assert (result.model.round, result.model.cid) == (3, PARENT)


def test_another_process_gets_the_same_cid(tmp_path: Path) -> None:
    cid, _ = _aggregate(_updates())
    script = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_task_aggregate import _aggregate, _updates\n"
        "print(_aggregate(list(reversed(_updates())))[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == cid


def test_the_aggregation_every_party_repeats_does_not_import_torch() -> None:
    """Miners and the auditor aggregate (and the attack lab crafts) without loading torch
    (it costs seconds and ~200 MB)."""
    code = (
        "import sys, flchain.task.aggregate, flchain.task.quality, flchain.learning.strategies\n"
        "import flchain.learning.aggregation, flchain.learning.attacks\n"
        "import flchain.learning.adversary\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "assert not loaded, loaded\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
