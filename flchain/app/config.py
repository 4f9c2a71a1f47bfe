"""A Flower app's ``pyproject.toml``, as FLchain reads it.

Flower's own keys: ``[tool.flwr.app.components] clientapp = "pkg.module:app"``
and the run config ``[tool.flwr.app.config]`` (nested tables flattened with
dots, as Flower does). FLchain's keys live under ``[tool.flchain]``:

* ``initial-model = "pkg.module:factory"``: a zero-argument callable returning
  a ``torch.nn.Module`` (its ``state_dict()``) or an ``ArrayRecord``; a legacy
  ``NumPyClient`` app may leave it out and give ``get_parameters`` instead;
* ``loss-metric``, ``accuracy-metric``: the evaluation metrics to read
  (defaults: ``eval_loss``/``eval_acc`` as ``flwr new`` templates reply; a
  legacy ``evaluate``'s loss and its ``accuracy`` metric);
* ``[tool.flchain.train-config]``: the train message's config record (plus
  ``server-round``), e.g. ``lr = 0.05``;
* run settings (:data:`RUN_SETTINGS`): ``clients``, ``miners``, ``rounds``,
  ``committee``, ``seed``, ``strategy``, ``strategy-params``, ``sample-cap``, and
  ``[tool.flchain.dp]`` (``clip``, ``noise-multiplier`` or a target ``epsilon``,
  ``delta``; see ``flchain.task.privacy``), ``compress`` (``"topk:<fraction>"`` or
  ``"q8"``; see ``flchain.task.compression``); command-line options override them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flchain.exceptions import ConfigError
from flchain.task.compression import compression_setting
from flchain.task.privacy import dp_from_table
from flchain.task.spec import TaskSpec

Scalar = bool | int | float | str
RUN_SETTINGS = (
    "clients",
    "miners",
    "rounds",
    "committee",
    "clients-per-round",
    "seed",
    "strategy",
    "strategy-params",
    "sample-cap",
    "dp",
    "compress",
)
INTEGER_SETTINGS = (
    "clients",
    "miners",
    "rounds",
    "committee",
    "clients_per_round",
    "seed",
    "sample_cap",
)
APP_SETTINGS = ("initial-model", "loss-metric", "accuracy-metric", "train-config")
_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class AppConfig:
    """Everything FLchain needs to know about an app directory."""

    root: Path
    name: str
    clientapp: str
    run_config: dict[str, Scalar] = field(default_factory=dict)
    initial_model: str | None = None
    train_config: dict[str, Scalar] = field(default_factory=dict)
    loss_metric: str | None = None
    accuracy_metric: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, root: str | Path) -> AppConfig:
        """Read ``root/pyproject.toml``; a clear error for every missing or malformed key."""
        root = Path(root).resolve()
        path = root / "pyproject.toml"
        if not path.is_file():
            raise ConfigError(f"{root} is not a Flower app: it has no pyproject.toml")
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        flwr_app = _table(doc, ("tool", "flwr", "app"), path)
        components = _table(flwr_app, ("components",), path, "[tool.flwr.app]")
        clientapp = components.get("clientapp")
        if not isinstance(clientapp, str) or not _REFERENCE.fullmatch(clientapp):
            raise ConfigError(
                f'{path}: [tool.flwr.app.components] needs clientapp = "pkg.module:app", '
                f"got {clientapp!r}"
            )
        run_config = _flatten(_table(flwr_app, ("config",), path, "[tool.flwr.app]"), path)
        ours = _table(doc, ("tool", "flchain"), path)
        unknown = sorted(set(ours) - set(RUN_SETTINGS) - set(APP_SETTINGS))
        if unknown:
            known = ", ".join(APP_SETTINGS + RUN_SETTINGS)
            raise ConfigError(f"{path}: unknown [tool.flchain] key(s) {unknown}; known: {known}")
        initial = ours.get("initial-model")
        if initial is not None and (
            not isinstance(initial, str) or not _REFERENCE.fullmatch(initial)
        ):
            raise ConfigError(
                f"{path}: [tool.flchain] initial-model must be "
                f'"pkg.module:factory", got {initial!r}'
            )
        metrics = {k: ours.get(k) for k in ("loss-metric", "accuracy-metric")}
        for key, value in metrics.items():
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f"{path}: [tool.flchain] {key} must be a metric name")
        project = doc.get("project", {})
        name = project.get("name") if isinstance(project, dict) else None
        return cls(
            root=root,
            name=name if isinstance(name, str) and name else root.name,
            clientapp=clientapp,
            run_config=run_config,
            initial_model=initial,
            train_config=_flatten(_table(ours, ("train-config",), path, "[tool.flchain]"), path),
            loss_metric=metrics["loss-metric"],
            accuracy_metric=metrics["accuracy-metric"],
            settings={k: ours[k] for k in RUN_SETTINGS if k in ours},
        )

    def task_spec(self, cid: str, **overrides: Any) -> TaskSpec:
        """The task spec of this app: its ``[tool.flchain]`` settings, then ``overrides``
        (command-line options; None means not given; ``dp`` a table merged key by key),
        then the defaults."""
        given = {k.replace("-", "_"): v for k, v in self.settings.items()}
        dp_table = given.pop("dp", {})
        if not isinstance(dp_table, dict):
            raise ConfigError("[tool.flchain] dp must be a table")
        dp_table = {**dp_table, **(overrides.pop("dp", None) or {})}
        given.update({k: v for k, v in overrides.items() if v is not None})
        if "strategy_params" in given and not isinstance(given["strategy_params"], dict):
            raise ConfigError("[tool.flchain] strategy-params must be a table")
        for key in INTEGER_SETTINGS:
            if key in given and (isinstance(given[key], bool) or not isinstance(given[key], int)):
                raise ConfigError(f"{key.replace('_', '-')} must be an integer, got {given[key]!r}")
        if "strategy" in given and not isinstance(given["strategy"], str):
            raise ConfigError(f"strategy must be a name, got {given['strategy']!r}")
        dp = dp_from_table(dp_table, given.get("rounds", TaskSpec.rounds))
        given["compression"] = compression_setting(given.pop("compress", ""))
        return TaskSpec(
            dataset="app", partition="app", arch=f"app:{self.name}", app=cid, dp=dp, **given
        )


def _table(doc: Mapping[str, Any], keys: tuple[str, ...], path: Path, under: str = "") -> dict:
    node: Any = doc
    for key in keys:
        node = node.get(key, {}) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            where = f"{under}.{'.'.join(keys)}" if under else ".".join(keys)
            raise ConfigError(f"{path}: [{where.strip('[]')}] must be a table")
    return dict(node)


def _flatten(table: Mapping[str, Any], path: Path, prefix: str = "") -> dict[str, Scalar]:
    """Nested tables as dotted keys (Flower's run-config convention); scalars only."""
    out: dict[str, Scalar] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, path, f"{name}."))
        elif isinstance(value, bool | int | float | str):
            out[name] = value
        else:
            raise ConfigError(f"{path}: config value {name!r} must be a number, bool or string")
    return out
