"""A task module in plain PyTorch as a task program: its contract, its errors, the built-ins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from task_helpers import program_of, spec_of, write_task

from flchain.app.builtin import BuiltinProgram, builtin_program
from flchain.app.module import ModuleProgram
from flchain.exceptions import AppError
from flchain.learning.models import build_model
from flchain.learning.training import TrainConfig, train_local
from flchain.learning.weights import get_weights
from flchain.party.workload import load_workload
from flchain.task.spec import TaskSpec


def _equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_a_module_with_model_and_data_trains_with_the_built_in_loop(tmp_path: Path) -> None:
    path = write_task(tmp_path, "EPOCHS = 2\nCONFIG = {'lr': 0.05, 'optimizer': 'sgd'}\n")
    spec = spec_of(path)
    assert (spec.train.epochs, spec.train.lr, spec.train.optimizer) == (2, 0.05, "sgd")
    assert spec.train.batch_size == 16  # not given: the default
    assert spec_of(path, epochs=1).train.epochs == 1  # a command-line option overrides
    assert spec.task.name == path.stem and spec.arch == f"task:{path.stem}"
    program = program_of(path)
    again = program_of(path)
    start = program.initial_weights()
    assert _equal(start, again.initial_weights())  # every party builds the same model
    trained = program.train(0, start, 0, seed=7)
    assert trained.num_samples == 40 and np.isfinite(trained.loss)
    assert _equal(trained.weights, again.train(0, start, 0, seed=7).weights)
    assert not _equal(trained.weights, start)
    found = program.evaluate(program.partitions.held_out, trained.weights)
    assert 0.0 <= found.accuracy <= 1.0 and found.loss > 0
    assert [len(y) for _, y in program.local_data] == [40, 40, 40]
    assert program.num_classes == 3 and program.head == ("2.bias", "2.weight")
    assert program.parallel


def test_the_module_s_own_train_and_evaluate_are_called_seeded(tmp_path: Path) -> None:
    body = """
    calls = []

    def train(model, data, config, seed):
        calls.append(("train", len(data[1]), config.epochs, seed))
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn(p.shape))  # the global RNG, seeded from `seed`
        return {"loss": 0.5}

    def evaluate(model, data):
        calls.append(("evaluate", len(data[1])))
        return {"loss": 1.25, "accuracy": 0.75}
    """
    path = write_task(tmp_path, body)
    program = program_of(path)
    start = program.initial_weights()
    first = program.train(1, start, 0, seed=3)
    second = program.train(1, start, 0, seed=3)
    assert _equal(first.weights, second.weights) and not _equal(first.weights, start)
    assert (first.num_samples, first.loss) == (40, 0.5)
    found = program.evaluate(3, first.weights)  # a miner's partition: its validation data
    assert (found.accuracy, found.loss) == (0.75, 1.25)
    module = program.task.train.__globals__  # type: ignore[union-attr]
    assert module["calls"] == [("train", 40, 3, 3), ("train", 40, 3, 3), ("evaluate", 20)]
    assert not program.parallel


@pytest.mark.parametrize(
    ("model", "data", "body", "needle"),
    [
        ("", None, "", "has no model()"),
        (None, "", "", "has no load_partition()"),
        ("def model():\n    return 3\n", None, "", "returned int, not a torch.nn.Module"),
        (None, None, "CONFIG = {'momentum': 0.9}\n", r"unknown CONFIG key\(s\) \['momentum'\]"),
        (None, None, "LR = 'fast'\n", "lr must be a float"),
    ],
)
def test_a_module_without_what_it_needs_is_refused_by_name(
    tmp_path: Path, model: str | None, data: str | None, body: str, needle: str
) -> None:
    given = {k: v for k, v in (("model", model), ("data", data)) if v is not None}
    if model == "":
        given["data"] = "import numpy as np\n" + (data or "") + DATA_ONLY
    path = write_task(tmp_path, body, **given)
    with pytest.raises(AppError, match=needle):
        program_of(path)


DATA_ONLY = """
def load_partition(partition_id, num_partitions):
    return None
"""


def test_an_import_error_is_reported_with_the_module_and_its_cause(tmp_path: Path) -> None:
    path = write_task(tmp_path, "import not_a_module_anywhere\n")
    with pytest.raises(AppError, match="cannot import the task module") as caught:
        spec_of(path)
    assert "not_a_module_anywhere" in str(caught.value) and str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("returned", "needle"),
    [
        ("(x, y)", r"must return \(train, validation\)"),
        ("((x, y), (x, y), (x, y))", r"must return \(train, validation\)"),
        ("((x, y[:-1]), (x, y))", r"one label per row, got x \(60, 4\) and y \(59,\)"),
        ("((x, y.reshape(-1, 1)), (x, y))", "one label per row"),
        ("((torch.from_numpy(x), y), (x, y))", r"must be NumPy arrays \(x, y\); got \(Tensor"),
        ("((x, y.astype(np.float32)), (x, y))", "labels y must be integer classes"),
        ("((x, y), (x[:0], y[:0]))", "validation is empty; a miner or the held-out"),
        ("((x[:0], y[:0]), (x, y))", "train is empty"),
    ],
)
def test_load_partition_returning_the_wrong_shapes_or_types_is_refused(
    tmp_path: Path, returned: str, needle: str
) -> None:
    data = f"""
    def load_partition(partition_id, num_partitions):
        rng = np.random.default_rng(partition_id)
        x = rng.normal(size=(60, 4)).astype(np.float32)
        y = (x[:, 0] > 0).astype(np.int64)
        return {returned}
    """
    program = program_of(write_task(tmp_path, data=data))
    with pytest.raises(AppError, match=needle) as caught:
        program.train(program.partitions.miner(0), program.initial_weights(), 0, 1)
        program.evaluate(program.partitions.miner(0), program.initial_weights())
    assert "load_partition(3, 6)" in str(caught.value)


def test_a_client_may_have_no_validation_data(tmp_path: Path) -> None:
    data = """
    def load_partition(partition_id, num_partitions):
        x = np.ones((10, 4), np.float32)
        y = np.zeros(10, np.int64)
        return (x, y), (x[:0], y[:0]) if partition_id < 3 else (x, y)
    """
    program = program_of(write_task(tmp_path, data=data))
    assert program.train(0, program.initial_weights(), 0, 1).num_samples == 10


def test_a_crash_or_a_bad_reply_inside_the_module_is_an_app_error(tmp_path: Path) -> None:
    body = """
    def train(model, data, config, seed):
        return 1 / 0

    def evaluate(model, data):
        return (0.5, 0.9)
    """
    program = program_of(write_task(tmp_path, body))
    with pytest.raises(AppError, match="train raised ZeroDivisionError"):
        program.train(0, program.initial_weights(), 0, 1)
    with pytest.raises(AppError, match=r"evaluate must return \{'loss'"):
        program.evaluate(3, program.initial_weights())


def test_the_built_in_models_and_data_sets_run_as_a_task_module() -> None:
    spec = TaskSpec(dataset="digits", arch="digits-cnn", clients=3, miners=2, seed=4)
    program = load_workload(spec).builtin
    assert isinstance(program, ModuleProgram) and isinstance(program, BuiltinProgram)
    assert _equal(program.initial_weights(), get_weights(build_model("digits-cnn", seed=4)))
    data = program.data
    assert program.local_data[1] is program.split(1)[0]
    assert program.split(1) == (data.clients[1].train, data.clients[1].test)
    assert program.split(3) == (data.miners[0], data.miners[0])
    assert program.split(5) == (data.test, data.test)
    # the built-in loop, unchanged: the same weights as calling the learning core directly
    config = TrainConfig(epochs=3, batch_size=16, lr=0.01, optimizer="adam")
    alone = train_local(
        build_model("digits-cnn", seed=4),
        data.clients[1].train,
        config,
        program.initial_weights(),
        9,
    )
    assert _equal(program.train(1, program.initial_weights(), 0, 9).weights, alone.weights)
    assert program.num_classes == 10


def test_the_built_in_program_names_an_unknown_architecture() -> None:
    with pytest.raises(Exception, match="unknown architecture 'nope'"):
        builtin_program("digits", "iid", "nope", 0, 2, 1, TrainConfig())
