"""Reading an app's pyproject.toml: Flower's keys, FLchain's settings, options on top."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import EXAMPLES

from flchain.app.config import AppConfig
from flchain.exceptions import ConfigError


def test_the_example_app_reads_as_flower_and_flchain_configure_it() -> None:
    config = AppConfig.load(EXAMPLES / "flower-mnist1d")
    assert config.clientapp == "mnist1d_app.client_app:app"
    assert config.run_config["local-epochs"] == 2
    assert config.initial_model == "mnist1d_app.task:Net"
    assert config.train_config == {"lr": 0.005}
    spec = config.task_spec("bafkexample", rounds=5, miners=None)
    assert (spec.clients, spec.miners, spec.rounds) == (3, 2, 5)
    assert spec.app == "bafkexample" and spec.arch == "app:mnist1d-app"


def test_nested_run_config_tables_are_flattened_with_dots(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flwr.app.components]\nclientapp = "a.b:app"\n'
        '[tool.flwr.app.config]\nmodel.width = 8\nmodel.depth = 2\nname = "x"\n'
    )
    config = AppConfig.load(tmp_path)
    assert config.run_config == {"model.width": 8, "model.depth": 2, "name": "x"}
    assert config.name == tmp_path.name


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[tool.flchain]\nround = 3\n", "unknown \\[tool.flchain\\] key"),
        ('[tool.flchain]\ninitial-model = "no colon"\n', "initial-model"),
        ('[tool.flchain]\nclients = "three"\n', "clients must be an integer"),
        ("[tool.flwr.app.config]\nlist = [1, 2]\n", "config value 'list'"),
    ],
)
def test_malformed_settings_are_named(tmp_path: Path, extra: str, message: str) -> None:
    text = '[tool.flwr.app.components]\nclientapp = "a.b:app"\n' + extra
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        AppConfig.load(tmp_path).task_spec("")


def test_a_directory_without_pyproject_is_not_an_app(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no pyproject\.toml"):
        AppConfig.load(tmp_path)


def test_dp_settings_come_from_the_app_and_options_override_them_key_by_key(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flwr.app.components]\nclientapp = "a.b:app"\n'
        "[tool.flchain.dp]\nclip = 2.0\nnoise-multiplier = 0.8\n"
    )
    config = AppConfig.load(tmp_path)
    spec = config.task_spec("")
    assert (spec.dp.clip, spec.dp.noise_multiplier, spec.dp.delta) == (2.0, 0.8, 1e-5)
    spec = config.task_spec("", dp={"noise-multiplier": 1.5})
    assert (spec.dp.clip, spec.dp.noise_multiplier) == (2.0, 1.5)
    assert not AppConfig.load(EXAMPLES / "flower-mnist1d").task_spec("").dp.enabled


def test_compression_comes_from_the_app_and_the_option_overrides_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flwr.app.components]\nclientapp = "a.b:app"\n'
        '[tool.flchain]\ncompress = "TOPK:0.05"\n'
    )
    config = AppConfig.load(tmp_path)
    assert config.task_spec("").compression == "topk:0.05"
    assert config.task_spec("", compress="q8").compression == "q8"
    assert config.task_spec("", compress="none").compression == ""
    assert AppConfig.load(EXAMPLES / "flower-mnist1d").task_spec("").compression == ""
    with pytest.raises(ConfigError, match="unknown compression 'gzip'"):
        config.task_spec("", compress="gzip")
    with pytest.raises(ConfigError, match="compress must be a string"):
        config.task_spec("", compress=1)
