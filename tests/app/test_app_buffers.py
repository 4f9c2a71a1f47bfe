"""A Flower app with BatchNorm (an integer buffer) through encode, pin, fetch and aggregate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from app_helpers import program, write_app

from flchain.learning.strategies import strategy_from_name
from flchain.storage.codec import (
    ArchitectureSpec,
    ModelMeta,
    decode_weights_from_store,
    encode_weights,
)
from flchain.storage.local import LocalStore
from flchain.task.aggregate import AcceptedUpdate, GlobalModel, aggregate_round
from flchain.task.spec import TaskSpec
from flchain.types import Address, RoundId

TASK = "0x" + "cd" * 20

BATCHNORM_APP = """
import torch
from torch import nn
from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

app = ClientApp()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.out = nn.Linear(3, 2)

    def forward(self, x):
        return self.out(torch.relu(self.bn(self.fc(x))))


@app.train()
def train(msg, context):
    model = Net()
    model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
    model.train()
    torch.manual_seed(int(context.node_config["partition-id"]))
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, 4))  # BatchNorm's running statistics and batch count move
    metrics = MetricRecord({"num-examples": 24})
    content = RecordDict({"arrays": ArrayRecord(model.state_dict()), "metrics": metrics})
    return Message(content, reply_to=msg)
"""


def test_an_integer_buffer_and_batchnorm_round_trip_bit_exactly(tmp_path: Path) -> None:
    root = write_app(tmp_path, BATCHNORM_APP)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(".model:Net", ".client_app:Net"))
    prog = program(root)
    initial = prog.initial_weights()
    assert initial["bn.num_batches_tracked"].dtype == np.int64
    assert prog.head == ("out.bias", "out.weight")
    updates = [prog.train(i, initial, 0, seed=i).weights for i in range(2)]
    assert [int(u["bn.num_batches_tracked"]) for u in updates] == [3, 3]
    store = LocalStore(tmp_path / "store")
    arch = ArchitectureSpec.from_weights(initial)
    author = Address("0x" + "ab" * 20)
    cids = [store.put(encode_weights(u, ModelMeta(RoundId(0), author, "app:bn"))) for u in updates]
    for cid, sent in zip(cids, updates, strict=True):
        fetched, _ = decode_weights_from_store(store, cid, expected=arch)
        assert list(fetched) == list(sent)  # the model's own order
        for name, array in sent.items():
            assert fetched[name].dtype == array.dtype
            assert fetched[name].tobytes() == array.tobytes()
    spec = TaskSpec(dataset="app", partition="app", arch="app:bn", clients=2, miners=1, app="x")
    spec = spec.with_sample_cap([24, 24])
    current = GlobalModel(0, store.put(b"initial"), initial)
    accepted = [AcceptedUpdate(i, cids[i], 24, str(author), updates[i]) for i in range(2)]
    once = aggregate_round(strategy_from_name("fedavg"), current, accepted, task=TASK, spec=spec)
    again = aggregate_round(strategy_from_name("fedavg"), current, accepted, task=TASK, spec=spec)
    assert once.model.cid == again.model.cid and once.data == again.data
    assert int(once.model.weights["bn.num_batches_tracked"]) == 3
    assert once.model.weights["bn.num_batches_tracked"].dtype == np.int64
    decoded, _ = decode_weights_from_store(store, store.put(once.data), expected=arch)
    for name, array in once.model.weights.items():
        assert decoded[name].tobytes() == array.tobytes()
