"""Flower messages as FLchain builds and reads them, in both of Flower's styles.

Message style (``@app.train()`` / ``@app.evaluate()``): the content is
``{"arrays": ArrayRecord, "config": ConfigRecord}`` as Flower's ``FedAvg``
sends it; the reply carries an ``ArrayRecord`` (train) and a ``MetricRecord``
with ``num-examples``. Legacy style (``ClientApp(client_fn=...)``): the content
is what Flower's legacy server sends, ``fitins.*``/``evaluateins.*`` records made
with Flower's own compatibility helpers, and the reply is read back with them.

Every reply is hostile until checked: the arrays must be exactly the model's
tensors (by name, or by position for a list), of the model's shapes and
finite; ``num-examples`` must be a positive integer.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, RecordDict
from flwr.common import (
    Code,
    EvaluateIns,
    FitIns,
    GetParametersIns,
    ndarrays_to_parameters,
    parameters_to_ndarrays,
)
from flwr.compat.common.recorddict_compat import (
    evaluateins_to_recorddict,
    fitins_to_recorddict,
    getparametersins_to_recorddict,
    recorddict_to_evaluateres,
    recorddict_to_fitres,
    recorddict_to_getparametersres,
)

from flchain.exceptions import AppError
from flchain.types import Weights

NUM_EXAMPLES = "num-examples"
TRAIN_LOSS_METRICS = ("train_loss", "loss")
"""Metrics read as the training loss, when present (it is only logged)."""
DEFAULT_LOSS_METRIC = "eval_loss"
DEFAULT_ACCURACY_METRIC = "eval_acc"
LEGACY_ACCURACY_METRIC = "accuracy"

Config = Mapping[str, bool | int | float | str]


@dataclass(frozen=True)
class Reply:
    """What an app's reply said: arrays (train only), examples, metrics."""

    arrays: list[tuple[str, np.ndarray]] | None
    num_examples: Any
    metrics: dict[str, Any]
    loss: float | None = None  # a legacy evaluate's loss


def array_record(weights: Weights, names: list[str]) -> ArrayRecord:
    """The weights as an ``ArrayRecord`` of named arrays, in the model's order."""
    return ArrayRecord(OrderedDict((n, Array(np.ascontiguousarray(weights[n]))) for n in names))


def train_content(weights: Weights, names: list[str], config: Config, legacy: bool) -> RecordDict:
    if legacy:
        params = ndarrays_to_parameters([np.asarray(weights[n]) for n in names])
        return fitins_to_recorddict(FitIns(params, dict(config)), keep_input=True)
    return RecordDict(
        {"arrays": array_record(weights, names), "config": ConfigRecord(dict(config))}
    )


def evaluate_content(
    weights: Weights, names: list[str], config: Config, legacy: bool
) -> RecordDict:
    if legacy:
        params = ndarrays_to_parameters([np.asarray(weights[n]) for n in names])
        return evaluateins_to_recorddict(EvaluateIns(params, dict(config)), keep_input=True)
    return RecordDict(
        {"arrays": array_record(weights, names), "config": ConfigRecord(dict(config))}
    )


def get_parameters_content() -> RecordDict:
    return getparametersins_to_recorddict(GetParametersIns(config={}))


def read_reply(reply: Message, kind: str, legacy: bool) -> Reply:
    """Parse an app's reply to a ``train``/``evaluate``/``get_parameters`` message."""
    if not isinstance(reply, Message):
        raise AppError(f"the app's {kind} returned {type(reply).__name__}, not a Message")
    if reply.has_error():
        raise AppError(f"the app's {kind} replied with an error: {reply.error.reason}")
    content = reply.content
    if legacy:
        return _read_legacy(content, kind)
    arrays = _one(content.array_records, "arrays", kind, "ArrayRecord") if kind == "train" else None
    metrics_record = _one(content.metric_records, "metrics", kind, "MetricRecord")
    metrics = dict(metrics_record) if metrics_record is not None else {}
    listed = None if arrays is None else [(k, a.numpy()) for k, a in arrays.items()]
    return Reply(listed, metrics.get(NUM_EXAMPLES), metrics)


def _read_legacy(content: RecordDict, kind: str) -> Reply:
    if kind == "train":
        fit = recorddict_to_fitres(content, keep_input=True)
        _status(fit.status.code, fit.status.message, kind)
        listed = [(str(i), a) for i, a in enumerate(parameters_to_ndarrays(fit.parameters))]
        return Reply(listed, fit.num_examples, dict(fit.metrics))
    if kind == "evaluate":
        res = recorddict_to_evaluateres(content)
        _status(res.status.code, res.status.message, kind)
        return Reply(None, res.num_examples, dict(res.metrics), loss=res.loss)
    got = recorddict_to_getparametersres(content, keep_input=True)
    _status(got.status.code, got.status.message, kind)
    listed = [(str(i), a) for i, a in enumerate(parameters_to_ndarrays(got.parameters))]
    return Reply(listed, None, {})


def _status(code: Code, message: str, kind: str) -> None:
    if code != Code.OK:
        raise AppError(f"the app's {kind} returned status {code.name}: {message}")


def _one(records: Mapping[str, Any], key: str, kind: str, what: str) -> Any:
    """The record named ``key``, else the only record of its type."""
    if key in records:
        return records[key]
    if len(records) == 1:
        return next(iter(records.values()))
    if not records:
        if what == "MetricRecord":
            return None
        raise AppError(f"the app's {kind} reply holds no {what}")
    raise AppError(f"the app's {kind} reply holds {len(records)} {what}s and none named {key!r}")


def check_weights(
    listed: list[tuple[str, np.ndarray]] | None, initial: Weights, kind: str
) -> Weights:
    """The reply's arrays as the model's named tensors, checked against the initial model."""
    if listed is None:
        raise AppError(f"the app's {kind} reply holds no arrays")
    names = list(initial)
    got = [k for k, _ in listed]
    if sorted(got) == sorted(names):
        arrays = dict(listed)
    elif len(listed) == len(names):  # a list of arrays: Flower's positional form
        arrays = {n: a for n, (_, a) in zip(names, listed, strict=True)}
    else:
        raise AppError(
            f"the app's {kind} returned {len(listed)} arrays, the model has {len(names)} "
            f"tensors ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
        )
    out: Weights = {}
    for name in names:
        array, want = np.asarray(arrays[name]), initial[name]
        if array.shape != want.shape:
            raise AppError(
                f"the app's {kind} returned tensor {name!r} of shape {list(array.shape)}, "
                f"expected {list(want.shape)}"
            )
        if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
            raise AppError(f"the app's {kind} returned tensor {name!r} with NaN or infinity")
        out[name] = array.astype(want.dtype, copy=True)
    return out


def count(value: Any, kind: str) -> int:
    """A reply's ``num-examples``: a positive integer."""
    if value is None:
        raise AppError(f"the app's {kind} reply has no {NUM_EXAMPLES!r} metric")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AppError(f"the app's {kind} {NUM_EXAMPLES!r} is {value!r}, not a number")
    if not math.isfinite(value) or value != int(value) or value < 1:
        raise AppError(f"the app's {kind} {NUM_EXAMPLES!r} is {value!r}, not a positive integer")
    return int(value)


def metric(metrics: Mapping[str, Any], name: str, kind: str) -> float:
    """A finite float metric of a reply, by name."""
    value = metrics.get(name)
    if value is None:
        raise AppError(
            f"the app's {kind} reply has no {name!r} metric (it has {sorted(metrics)}); "
            "name the right one in [tool.flchain] loss-metric / accuracy-metric"
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AppError(f"the app's {kind} metric {name!r} is {value!r}, not a finite number")
    return float(value)
