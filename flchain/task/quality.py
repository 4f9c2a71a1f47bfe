"""Proof-of-quality: the pure rules that turn an update into a score.

A miner checks every update of the round in three steps, in this order:

1. integrity: it resolves, verifies, decodes within limits, has the task's
   architecture and only finite values (done while fetching; a failure is 0);
2. plagiarism: an update that does not move away from the global model
   (free-riding), or whose change is a near-copy of an earlier update of the
   same round (the later one by submission index), scores 0;
3. quality (proof-of-quality), on the miner's own validation data, disjoint
   from every client's: the model *with* the update, i.e. the global model
   plus the update's change at its FedAvg share (its samples over the round's
   samples), against the model *without* it (the global model). It passes when
   that costs at most ``tolerance`` accuracy, and when the update's own model
   keeps its loss under ``max(loss_ratio * L, L + loss_slack)`` for the global
   loss ``L`` (noise and sign flips blow the loss up by tens of nats, even
   while the global model is at chance level; an honest client on skewed data
   forgets other classes but stays far below). Its score is then its own
   validation accuracy in basis points (at least 1).

Scores are in basis points, 0..10000; 0 means reject.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flchain.task.spec import ScoreRules
from flchain.types import MAX_SCORE, Score

Weights = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Evaluation:
    """Accuracy and loss of one model on the miner's validation data."""

    accuracy: float
    loss: float


EvaluateFn = Callable[[Weights], Evaluation]
"""Evaluates one set of weights on the miner's validation data."""


@dataclass(frozen=True)
class Verdict:
    """A score and the reason for it (logged by the miner)."""

    score: Score
    reason: str


def flat_delta(weights: Weights, global_weights: Weights) -> np.ndarray:
    """``weights - global_weights`` as one float64 vector, in sorted name order."""
    parts = [
        np.asarray(weights[name], dtype=np.float64).ravel()
        - np.asarray(global_weights[name], dtype=np.float64).ravel()
        for name in sorted(global_weights)
    ]
    return np.concatenate(parts) if parts else np.zeros(0)


def global_norm(global_weights: Weights) -> float:
    """L2 norm of the whole global model."""
    return math.sqrt(
        sum(float(np.sum(np.square(w, dtype=np.float64))) for w in global_weights.values())
    )


def is_unchanged(delta: np.ndarray, norm_global: float, rules: ScoreRules) -> bool:
    """True when an update is (almost) the global model itself."""
    return float(np.linalg.norm(delta)) <= rules.unchanged_tolerance * max(norm_global, 1e-12)


def find_copies(deltas: Sequence[np.ndarray], rules: ScoreRules) -> dict[int, int]:
    """Map each later near-copy to the earliest update it copies.

    Update ``i`` copies ``j < i`` when ``|d_i - d_j| <= tol * max(|d_i|, |d_j|)``.
    """
    norms = [float(np.linalg.norm(d)) for d in deltas]
    copies: dict[int, int] = {}
    for i in range(len(deltas)):
        for j in range(i):
            if j in copies:
                continue
            gap = float(np.linalg.norm(deltas[i] - deltas[j]))
            if gap <= rules.duplicate_tolerance * max(norms[i], norms[j]):
                copies[i] = j
                break
    return copies


def with_share(weights: Weights, global_weights: Weights, share: float) -> dict[str, np.ndarray]:
    """The global model moved by ``share`` of the update's change (float64 maths)."""
    return {
        name: (
            g.astype(np.float64) + share * (weights[name].astype(np.float64) - g.astype(np.float64))
        ).astype(np.float32)
        for name, g in global_weights.items()
    }


def quality_verdict(
    base: Evaluation, own: Evaluation, shared: Evaluation, rules: ScoreRules
) -> Verdict:
    """Score an update from its own evaluation and that of the global model with its share."""
    values = (own.accuracy, own.loss, shared.accuracy, shared.loss)
    if not all(math.isfinite(v) for v in values):
        return Verdict(Score(0), "evaluation is not finite")
    ceiling = max(rules.loss_ratio * base.loss, base.loss + rules.loss_slack)
    if own.loss > ceiling:
        return Verdict(
            Score(0),
            f"validation loss {own.loss:.3f} above {ceiling:.3f} (global {base.loss:.3f})",
        )
    floor = base.accuracy - rules.tolerance
    if shared.accuracy < floor:
        return Verdict(
            Score(0),
            f"validation accuracy of the global model with its share falls to "
            f"{shared.accuracy:.3f}, "
            f"below {floor:.3f} (global {base.accuracy:.3f})",
        )
    score = max(1, min(MAX_SCORE, round(own.accuracy * MAX_SCORE)))
    return Verdict(Score(score), f"validation accuracy {own.accuracy:.3f}")


def score_round(
    global_weights: Weights,
    updates: Sequence[Weights | None],
    evaluate: EvaluateFn,
    base: Evaluation,
    rules: ScoreRules,
    failures: Mapping[int, str] | None = None,
    samples: Sequence[int] | None = None,
) -> list[Verdict]:
    """Verdicts for every update of a round, in submission order.

    ``updates[i]`` is ``None`` when update ``i`` failed integrity; ``failures``
    says why. ``samples[i]`` is the sample count it claims (its FedAvg weight;
    equal weights when not given). ``evaluate`` evaluates one set of weights on
    validation data.
    """
    counts = list(samples) if samples is not None else [1] * len(updates)
    total = sum(counts) or 1
    failures = failures or {}
    verdicts: dict[int, Verdict] = {}
    norm = global_norm(global_weights)
    live: dict[int, Weights] = {i: w for i, w in enumerate(updates) if w is not None}
    deltas = {i: flat_delta(w, global_weights) for i, w in live.items()}
    for i in range(len(updates)):
        if i not in live:
            verdicts[i] = Verdict(Score(0), failures.get(i, "integrity check failed"))
        elif is_unchanged(deltas[i], norm, rules):
            verdicts[i] = Verdict(Score(0), "unchanged global model (free-riding)")
    candidates = [i for i in live if i not in verdicts]
    for later, earlier in find_copies([deltas[i] for i in candidates], rules).items():
        verdicts[candidates[later]] = Verdict(
            Score(0), f"near-copy of update {candidates[earlier]} (plagiarism)"
        )
    for i, weights in live.items():
        if i not in verdicts:
            shared = evaluate(with_share(weights, global_weights, counts[i] / total))
            verdicts[i] = quality_verdict(base, evaluate(weights), shared, rules)
    return [verdicts[i] for i in range(len(updates))]
