"""Task specs round-trip canonically and refuse bad input by name."""

from __future__ import annotations

import pytest

from flchain.exceptions import ConfigError
from flchain.task.spec import ModuleSpec, ScoreRules, TaskSpec, TrainSpec


def test_round_trip_is_canonical() -> None:
    spec = TaskSpec(
        dataset="digits",
        partition="dirichlet:0.5",
        strategy="fedavgm",
        strategy_params={"server_momentum": 0.9},
        train=TrainSpec(epochs=2, lr=0.1),
        scoring=ScoreRules(norm_ratio=4.0),
        clients=5,
    )
    data = spec.to_json()
    assert TaskSpec.from_json(data) == spec
    assert TaskSpec.from_json(data).to_json() == data
    assert b" " not in data


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"version": 99}', "version 99"),
        (b'{"version": 2, "colour": "red"}', "colour"),
        (b'{"version": 2, "train": {"epochs": 1, "momentum": 2}}', "momentum"),
        (b'{"version": 2, "clients": 0}', "clients=0"),
    ],
)
def test_bad_specs_name_the_problem(text: bytes, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        TaskSpec.from_json(text)


def test_a_task_module_is_certified_and_a_spec_without_one_keeps_its_bytes() -> None:
    plain = TaskSpec(dataset="digits", clients=5)
    assert b'"task"' not in plain.to_json()  # the canonical bytes (and CID) of before
    module = ModuleSpec("my_task", "bafkreiexample")
    spec = TaskSpec(dataset="task", partition="task", arch="task:my_task", task=module)
    data = spec.to_json()
    assert b'"task":{"cid":"bafkreiexample","name":"my_task"}' in data
    assert TaskSpec.from_json(data) == spec and not spec.builtin and plain.builtin
    with pytest.raises(ConfigError, match="both its name and its CID"):
        ModuleSpec("my_task", "")
    with pytest.raises(ConfigError, match="not both"):
        TaskSpec(app="bafyapp", task=module)
    with pytest.raises(ConfigError, match="task has unknown field"):
        TaskSpec.from_json(data.replace(b'"name"', b'"entry"'))
