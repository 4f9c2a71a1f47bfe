"""FLchain as a Flower SuperNode: the messages an app receives, and what it may reply."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from app_helpers import EXAMPLES, program, write_app

from flchain.app.config import AppConfig
from flchain.exceptions import AppError, ConfigError

PROBE = """
import torch
from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

SEEN = []
app = ClientApp()


@app.train()
def train(msg, context):
    SEEN.append((msg, context))
    arrays = msg.content["arrays"]
    state = {k: torch.from_numpy(v.numpy() + 1.0) for k, v in arrays.items()}
    metrics = MetricRecord({"num-examples": 7, "train_loss": 0.25})
    return Message(RecordDict({"arrays": ArrayRecord(state), "metrics": metrics}), reply_to=msg)


@app.evaluate()
def evaluate(msg, context):
    SEEN.append((msg, context))
    total = float(sum(v.numpy().sum() for v in msg.content["arrays"].values()))
    metrics = {"eval_loss": abs(total), "eval_acc": 0.5, "num-examples": 3}
    return Message(RecordDict({"metrics": MetricRecord(metrics)}), reply_to=msg)
"""

LEGACY_PROBE = """
from flwr.client import NumPyClient
from flwr.clientapp import ClientApp

SEEN = []


class Probe(NumPyClient):
    def __init__(self, context):
        self.context = context

    def fit(self, parameters, config):
        SEEN.append(("fit", dict(config), [p.shape for p in parameters], self.context))
        return [p * 2 for p in parameters], 11, {"train_loss": 0.5}

    def evaluate(self, parameters, config):
        SEEN.append(("evaluate", dict(config), [p.shape for p in parameters], self.context))
        return 1.5, 4, {"accuracy": 0.75}


app = ClientApp(client_fn=lambda context: Probe(context).to_client())
"""


def probe_module(root: Path):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"{root.name}.client_app")


def test_a_train_message_carries_the_weights_the_config_and_the_round(tmp_path: Path) -> None:
    root = write_app(tmp_path, PROBE, "[tool.flchain.train-config]\nlr = 0.05\n")
    prog = program(root)
    initial = prog.initial_weights()
    assert list(initial) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert prog.head == ("out.bias", "out.weight")
    outcome = prog.train(4, initial, server_round=2, seed=9)
    msg, context = probe_module(root).SEEN[-1]
    assert msg.metadata.message_type == "train" and msg.metadata.group_id == "3"
    assert msg.metadata.src_node_id == 1 and msg.metadata.dst_node_id == 6
    assert msg.metadata.message_id == msg.object_id
    assert dict(msg.content["config"]) == {"lr": 0.05, "server-round": 3}
    assert list(msg.content["arrays"].keys()) == list(initial)
    assert context.node_config == {"partition-id": 4, "num-partitions": 6}
    assert context.run_config == {"width": 4}
    assert outcome.num_samples == 7 and outcome.loss == 0.25
    for name, array in initial.items():
        np.testing.assert_array_equal(outcome.weights[name], array + 1.0)
    assert prog.context(4) is context  # a node keeps its context across rounds


def test_an_evaluate_reply_gives_the_configured_metrics(tmp_path: Path) -> None:
    root = write_app(tmp_path, PROBE)
    prog = program(root)
    weights = {k: np.zeros_like(v) for k, v in prog.initial_weights().items()}
    found = prog.evaluate(5, weights)
    assert (found.accuracy, found.loss) == (0.5, 0.0)
    msg, _ = probe_module(root).SEEN[-1]
    assert msg.metadata.message_type == "evaluate"
    named = write_app(tmp_path, PROBE, 'loss-metric = "eval_acc"\naccuracy-metric = "eval_loss"')
    assert program(named).evaluate(5, weights).loss == 0.5


def test_a_legacy_numpy_client_gets_flowers_fit_and_evaluate_instructions(tmp_path: Path) -> None:
    root = write_app(tmp_path, LEGACY_PROBE, "[tool.flchain.train-config]\nlr = 0.1\n")
    prog = program(root)
    assert prog.legacy
    initial = prog.initial_weights()
    outcome = prog.train(1, initial, server_round=0, seed=3)
    kind, config, shapes, context = probe_module(root).SEEN[-1]
    assert kind == "fit" and config == {"lr": 0.1, "server-round": 1}
    assert shapes == [a.shape for a in initial.values()]  # in the model's own order
    assert context.node_config["partition-id"] == 1
    assert outcome.num_samples == 11
    for name, array in initial.items():
        np.testing.assert_array_equal(outcome.weights[name], array * 2)
    found = prog.evaluate(0, initial)
    assert (found.accuracy, found.loss) == (0.75, 1.5)


@pytest.mark.parametrize(
    ("example", "first_share"),
    [
        ("flower-mnist1d", 534),  # the first of six near-even shares of 3 200 training rows
        ("flower-legacy", 240),  # of the 1 438 training digits
    ],
)
def test_the_examples_train_deterministically_and_learn(example: str, first_share: int) -> None:
    prog = program(EXAMPLES / example)
    initial = prog.initial_weights()
    first = prog.train(0, initial, 0, seed=5)
    again = prog.train(0, initial, 0, seed=5)
    for name in initial:
        np.testing.assert_array_equal(first.weights[name], again.weights[name])
        assert first.weights[name].shape == initial[name].shape
    assert first.num_samples == first_share
    held_out = prog.partitions.held_out
    before, after = prog.evaluate(held_out, initial), prog.evaluate(held_out, first.weights)
    assert after.loss < before.loss and after.accuracy > before.accuracy


# --- bad apps: clear errors, never a hang ---------------------------------------------------


def test_an_app_without_a_clientapp_entry_is_refused(tmp_path: Path) -> None:
    root = write_app(tmp_path, PROBE, components='serverapp = "x.server_app:app"')
    with pytest.raises(ConfigError, match="clientapp"):
        AppConfig.load(root)


def test_an_import_error_inside_the_app_names_the_module(tmp_path: Path) -> None:
    root = write_app(tmp_path, "import not_a_module_anywhere\n")
    with pytest.raises(AppError, match=r"ModuleNotFoundError.*not_a_module_anywhere"):
        program(root)


def test_a_clientapp_entry_that_is_not_a_clientapp_is_refused(tmp_path: Path) -> None:
    root = write_app(tmp_path, "app = 42\n")
    with pytest.raises(AppError, match="not a flwr ClientApp"):
        program(root)


def test_train_without_num_examples_is_refused(tmp_path: Path) -> None:
    root = write_app(tmp_path, PROBE.replace('"num-examples": 7, ', ""))
    prog = program(root)
    with pytest.raises(AppError, match="no 'num-examples'"):
        prog.train(0, prog.initial_weights(), 0, 1)


def test_train_returning_weights_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    wrong = PROBE.replace("torch.from_numpy(v.numpy() + 1.0)", "torch.zeros(2, 2)")
    prog = program(write_app(tmp_path, wrong))
    shape = r"tensor 'hidden.weight' of shape \[2, 2\], expected \[3, 4\]"
    with pytest.raises(AppError, match=shape):
        prog.train(0, prog.initial_weights(), 0, 1)


def test_a_crash_inside_train_becomes_an_app_error_saying_where(tmp_path: Path) -> None:
    crash = PROBE.replace("    SEEN.append((msg, context))\n    arrays", "    1 / 0\n    arrays")
    prog = program(write_app(tmp_path, crash))
    with pytest.raises(AppError, match=r"train raised ZeroDivisionError.*client_app.py:\d+"):
        prog.train(0, prog.initial_weights(), 0, 1)


def test_an_evaluate_without_the_loss_metric_names_what_it_has(tmp_path: Path) -> None:
    prog = program(write_app(tmp_path, PROBE, 'loss-metric = "val_loss"'))
    with pytest.raises(AppError, match=r"no 'val_loss' metric.*eval_acc"):
        prog.evaluate(0, prog.initial_weights())


def test_an_app_without_an_initial_model_says_how_to_give_one(tmp_path: Path) -> None:
    root = write_app(tmp_path, PROBE)
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.split("[tool.flchain]")[0])
    with pytest.raises(AppError, match="initial-model"):
        program(root)
