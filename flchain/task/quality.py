"""Proof-of-quality: the pure rules that turn the updates of a round into scores.

A miner checks every update of the round in this order; the first rule that
fails gives the update a score of 0 and names the signal that caught it:

1. integrity: it resolves, verifies, decodes within limits, has the task's
   architecture and only finite values, and its metadata (round, author,
   architecture, parent) match the round it was submitted to (done while
   fetching, see :func:`check_metadata`);
2. size: its change from the global model (its *delta*) is compared with the
   round's median delta size, where the miner's own reference update counts as
   one more member of the round. A delta below ``unchanged_ratio`` of it is no
   training at all (free-riding); one above ``norm_ratio`` times it is boosted
   (scaling, sign flips ×10, noise);
3. plagiarism: a delta whose *direction* is within ``duplicate_tolerance`` of an
   earlier update's (by submission index) is a copy, whatever its scale;
4. direction (FLTrust's trust, Cao et al. 2021): the cosine between the delta and
   the miner's reference update, trained from the same global model on the
   miner's own data, disjoint from every client's, must exceed
   ``max(min_cosine, cosine_ratio x the round's median cosine)``: an update must
   agree with the reference at least that well relative to the round's typical
   update (the median is robust while fewer than half the updates are bad).
   It is taken on the classifier head (the output layer) when the task names
   one: the head carries what the labels mean, so a label flip turns it away
   from any honest update, while honest clients on skewed data still agree
   with it (measured in ``docs/robustness.md``); the whole model's cosine
   drifts towards 0 for honest updates as training converges. Colluders cannot
   move the reference, unlike a round median;
5. cluster (a round-level rule in the spirit of FLAME, Nguyen et al. 2022): the
   updates that passed the size and plagiarism rules, as unit vectors, are
   projected on the round's main direction of variation; the most separated
   strict minority of at least two at either end (:func:`find_group`) is
   rejected when the gap between it and the rest exceeds ``cluster_separation``
   times the larger spread along that direction, the group's or the rest's.
   Colluders who share a goal (a backdoor, a label flip) move together and
   apart from the honest majority;
   honest clients on skewed data differ from each other in many directions at
   once and rarely leave such a gap (calibrated in ``docs/robustness.md``).
   Every miner computes the same groups: the rule reads only the updates;
6. effect, on the miner's validation data: the update's own model must keep its
   loss under ``max(loss_ratio * L, L + loss_slack)`` for the global loss ``L``,
   and the round's aggregate of all candidates must not be better without it by
   more than ``harm_tolerance`` accuracy (leave-one-out).

Scores are in basis points, 0..10000; 0 means reject. An accepted update scores
its contribution, not its own accuracy: ``cosine × min(1, size / median size)``
(at least 1), so an update that passes but adds little earns little.
Sample counts are claims: each update's weight is bounded by
:func:`flchain.task.aggregate.bounded_samples` before any share is computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flchain.task.aggregate import bounded_samples
from flchain.task.signals import (
    apply_delta,
    cosine,
    find_copies,
    find_group,
    flat_delta,
    mean_of,
    mean_without,
    median,
    norm,
    weighted_sum,
)
from flchain.task.spec import ScoreRules
from flchain.types import MAX_SCORE, Score, Weights

ACCEPTANCE_THRESHOLD = 1
"""The task's on-chain threshold: a rejected update scores 0, an accepted one at least 1."""


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


@dataclass(frozen=True)
class ExpectedMeta:
    """What an update of one round must say about itself."""

    round: int
    author: str
    architecture: str
    parent: str


def check_metadata(meta: Mapping[str, object], expected: ExpectedMeta) -> str | None:
    """Why an update's metadata do not match its round, or ``None`` when they do."""
    wanted = {
        "round": expected.round,
        "author": expected.author.lower(),
        "architecture": expected.architecture,
        "parent": expected.parent,
    }
    for key, want in wanted.items():
        got = meta.get(key)
        if isinstance(got, str) and key == "author":
            got = got.lower()
        if got != want:
            return f"metadata: {key} is {got!r}, expected {want!r}"
    return None


def reject(reason: str) -> Verdict:
    return Verdict(Score(0), reason)


def size_verdict(size: float, median_size: float, rules: ScoreRules) -> Verdict | None:
    """Free-riding or boosting, judged against the round's median delta size."""
    if median_size <= 0 or size <= rules.unchanged_ratio * median_size:
        return reject(
            f"free-riding: change {size:.3g} is below {rules.unchanged_ratio:g} x "
            f"the round's median {median_size:.3g}"
        )
    if size > rules.norm_ratio * median_size:
        return reject(
            f"norm: change {size:.3g} is {size / median_size:.1f} x the round's median "
            f"{median_size:.3g} (bound {rules.norm_ratio:g} x)"
        )
    return None


def loss_verdict(base: Evaluation, own: Evaluation, rules: ScoreRules) -> Verdict | None:
    """The update's own model must not blow the validation loss up."""
    if not (math.isfinite(own.accuracy) and math.isfinite(own.loss)):
        return reject("loss: evaluation is not finite")
    ceiling = max(rules.loss_ratio * base.loss, base.loss + rules.loss_slack)
    if own.loss > ceiling:
        return reject(
            f"loss: validation loss {own.loss:.3f} above {ceiling:.3f} (global {base.loss:.3f})"
        )
    return None


def harm_verdict(with_it: Evaluation, without: Evaluation, rules: ScoreRules) -> Verdict | None:
    """Leave-one-out: the round's aggregate must not be clearly better without the update."""
    gain = without.accuracy - with_it.accuracy
    if not math.isfinite(gain) or gain > rules.harm_tolerance:
        return reject(
            f"harm: the round's aggregate scores {without.accuracy:.3f} without it, "
            f"{with_it.accuracy:.3f} with it (tolerance {rules.harm_tolerance:g})"
        )
    return None


def cluster_verdicts(
    indices: Sequence[int], deltas: Sequence[np.ndarray], rules: ScoreRules
) -> dict[int, Verdict]:
    """Rejections of the round's most separated minority group (update index → verdict).

    ``deltas[k]`` belongs to update ``indices[k]``; nothing is rejected unless a
    group's ``gap / spread`` exceeds ``rules.cluster_separation``.
    """
    group = find_group(deltas)
    if group is None or group.separation <= rules.cluster_separation:
        return {}
    members = [indices[k] for k in group.members]
    reason = (
        f"cluster: one of {len(members)} updates ({', '.join(map(str, members))}) set apart "
        f"from the round's other {len(indices) - len(members)} along its main direction: "
        f"gap {group.gap:.3f} is {group.separation:.2f} x the larger spread "
        f"(bound {rules.cluster_separation:g} x)"
    )
    return {i: reject(reason) for i in members}


def contribution(cos: float, size: float, median_size: float) -> Score:
    """An accepted update's score: aligned and full-sized earns most (at least 1)."""
    share = min(1.0, size / median_size) if median_size > 0 else 0.0
    return Score(max(1, min(MAX_SCORE, round(max(cos, 0.0) * share * MAX_SCORE))))


def score_round(
    global_weights: Weights,
    updates: Sequence[Weights | None],
    evaluate: EvaluateFn,
    base: Evaluation,
    rules: ScoreRules,
    failures: Mapping[int, str] | None = None,
    samples: Sequence[int] | None = None,
    reference: Weights | None = None,
    sample_cap: int = 2**32 - 1,
    head: Sequence[str] = (),
) -> list[Verdict]:
    """Verdicts for every update of a round, in submission order.

    ``updates[i]`` is ``None`` when update ``i`` failed integrity; ``failures``
    says why. ``samples[i]`` is the sample count it claims (bounded before use).
    ``reference`` is the miner's own model trained from the same global model
    (without one, the direction rule compares with the round's coordinate-wise
    median). ``head`` names the classifier's tensors the direction is measured on
    (all tensors when empty).
    ``evaluate`` evaluates one set of weights on validation data.
    """
    failures = failures or {}
    verdicts: dict[int, Verdict] = {
        i: reject(failures.get(i, "integrity check failed"))
        for i, w in enumerate(updates)
        if w is None
    }
    live = {i: w for i, w in enumerate(updates) if w is not None}
    deltas = {i: flat_delta(w, global_weights) for i, w in live.items()}
    sizes = {i: norm(d) for i, d in deltas.items()}
    ref = flat_delta(reference, global_weights) if reference is not None else None
    median_size = median(list(sizes.values()) + ([norm(ref)] if ref is not None else []))
    names = {k: global_weights[k] for k in head} if head else global_weights
    directions = (
        {i: flat_delta({k: live[i][k] for k in names}, names) for i in live} if head else deltas
    )
    if reference is not None:
        ref_direction = flat_delta({k: reference[k] for k in names}, names)
    elif directions:
        ref_direction = np.median(np.stack(list(directions.values())), axis=0)
    for i in live:
        verdict = size_verdict(sizes[i], median_size, rules)
        if verdict is not None:
            verdicts[i] = verdict
    order = [i for i in live if i not in verdicts]
    copies = find_copies([deltas[i] for i in order], rules.duplicate_tolerance)
    for later, earlier in copies.items():
        verdicts[order[later]] = reject(f"plagiarism: near-copy of update {order[earlier]}")
    copies_of = {order[later] for later in copies}
    cosines = {i: cosine(directions[i], ref_direction) for i in directions}
    floor = max(rules.min_cosine, rules.cosine_ratio * median(list(cosines.values())))
    for i in live:
        if i not in verdicts and cosines[i] <= floor:
            verdicts[i] = reject(
                f"direction: cosine {cosines[i]:+.3f} to the miner's reference update "
                f"is not above {floor:.3f}"
            )
    passed = [i for i in order if i not in copies_of]
    for i, verdict in cluster_verdicts(passed, [deltas[i] for i in passed], rules).items():
        verdicts.setdefault(i, verdict)
    for i in live:
        if i not in verdicts:
            verdict = loss_verdict(base, evaluate(live[i]), rules)
            if verdict is not None:
                verdicts[i] = verdict
    candidates = [i for i in live if i not in verdicts]
    claims = list(samples) if samples is not None else [1] * len(updates)
    weights = bounded_samples([claims[i] for i in candidates], sample_cap)
    bounded = dict(zip(candidates, weights, strict=True))

    if len(candidates) > 1:
        # Leave-one-out means from one in-order sum: O(N) passes instead of O(N²).
        total = weighted_sum([deltas[i] for i in candidates], [bounded[i] for i in candidates])
        weight = float(sum(bounded[i] for i in candidates))
        with_all = evaluate(apply_delta(global_weights, mean_of(total, weight)))
        for i in candidates:
            mean = mean_without(total, weight, deltas[i], bounded[i])
            verdict = harm_verdict(with_all, evaluate(apply_delta(global_weights, mean)), rules)
            if verdict is not None:
                verdicts[i] = verdict
    for i in live:
        if i not in verdicts:
            score = contribution(cosines[i], sizes[i], median_size)
            verdicts[i] = Verdict(score, f"accepted: cosine {cosines[i]:+.3f}")
    return [verdicts[i] for i in range(len(updates))]
