"""Differential privacy in the run path: what a client applies, and the ε everyone reports.

A task with ``spec.dp`` on has every client clip its update to ``dp.clip`` and
add Gaussian noise of standard deviation ``dp.noise_multiplier x dp.clip``
(:func:`flchain.learning.dp.privatize_update`), drawn from a generator seeded
with ``derive_seed(task seed, "dp", client index, round)``, so a run is
reproducible. Each update a client submits is one release of the Gaussian
mechanism on its data; every client takes part in every round it submits to
(sampling rate 1), so its ε after a round is the RDP accountant's
(:func:`flchain.learning.dp.epsilon`) for the number of rounds it has
submitted to so far. The orchestrator and the auditor both count those rounds
from the chain's submissions, so the audit recomputes every ε from the spec and
the chain alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from flchain.exceptions import ConfigError
from flchain.learning import dp
from flchain.task.evaluation import derive_seed
from flchain.task.spec import DPSpec, TaskSpec
from flchain.types import Weights

SAMPLE_RATE = 1.0
"""Every registered client may submit in every round: no subsampling amplification."""


def privatize(
    spec: TaskSpec, index: int, r: int, global_weights: Weights, local: Weights
) -> Weights:
    """Client ``index``'s round-``r`` model with its update clipped and noised (unchanged when
    the task has no DP)."""
    if not spec.dp.enabled:
        return local
    rng = np.random.default_rng(derive_seed(spec.seed, "dp", index, r))
    return dp.privatize_update(global_weights, local, spec.dp.clip, spec.dp.noise_multiplier, rng)


def client_epsilon(settings: DPSpec, releases: int) -> float:
    """ε at ``settings.delta`` after ``releases`` privatised updates of one client."""
    return dp.epsilon(SAMPLE_RATE, settings.noise_multiplier, releases, settings.delta)[0]


def epsilon_by_round(
    settings: DPSpec, submitters: Iterable[tuple[int, Iterable[str]]]
) -> dict[int, dict[str, float]]:
    """For each ``(round, clients that submitted in it)``, in round order: every client that
    has submitted so far and its ε after that round."""
    releases: dict[str, int] = {}
    out: dict[int, dict[str, float]] = {}
    for r, clients in sorted(submitters, key=lambda item: item[0]):
        for client in set(clients):
            releases[client] = releases.get(client, 0) + 1
        out[r] = {c: round(client_epsilon(settings, n), 6) for c, n in sorted(releases.items())}
    return out


def for_epsilon(clip: float, target: float, rounds: int, delta: float = 1e-5) -> DPSpec:
    """DP settings whose noise makes a client that submits in all ``rounds`` reach at most
    ``target`` ε (the multiplier found with the accountant)."""
    sigma = dp.noise_for_epsilon(target, rounds, delta, SAMPLE_RATE)
    return DPSpec(clip=clip, noise_multiplier=sigma, delta=delta, target_epsilon=target)


DP_KEYS = ("clip", "noise-multiplier", "epsilon", "delta")
"""The keys of ``[tool.flchain.dp]``, also what ``flchain run --dp-*`` fills in."""


def dp_from_table(table: Mapping[str, Any], rounds: int) -> DPSpec:
    """DP settings from ``[tool.flchain.dp]``-style keys (empty: off). ``epsilon`` is a
    target: the noise multiplier is derived from it for ``rounds`` rounds."""
    unknown = sorted(set(table) - set(DP_KEYS))
    if unknown:
        raise ConfigError(f"unknown dp setting(s) {unknown}; known: {', '.join(DP_KEYS)}")
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"dp {key} must be a number, got {value!r}")
    if not table:
        return DPSpec()
    clip = float(table.get("clip", 0.0))
    delta = float(table.get("delta", DPSpec.delta))
    if "epsilon" in table:
        if "noise-multiplier" in table:
            raise ConfigError("give dp noise-multiplier or a target epsilon, not both")
        if not clip > 0:
            raise ConfigError("a dp target epsilon needs a clip norm > 0")
        return for_epsilon(clip, float(table["epsilon"]), rounds, delta)
    return DPSpec(
        clip=clip, noise_multiplier=float(table.get("noise-multiplier", 0.0)), delta=delta
    )
