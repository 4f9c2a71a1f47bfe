"""Proof-of-quality rules on real arrays: exact verdicts and the signal each names."""

from __future__ import annotations

import numpy as np

from flchain.task import signals
from flchain.task.aggregate import bounded_samples
from flchain.task.quality import (
    Evaluation,
    ExpectedMeta,
    check_metadata,
    cluster_verdicts,
    contribution,
    harm_verdict,
    loss_verdict,
    score_round,
    size_verdict,
)
from flchain.task.spec import ScoreRules

RULES = ScoreRules()
SIZE = 40


def _global() -> dict[str, np.ndarray]:
    return {"b": np.zeros(8, np.float32), "w": np.zeros((4, 8), np.float32)}


def _with(delta: np.ndarray) -> dict[str, np.ndarray]:
    return signals.apply_delta(_global(), delta)


def test_flat_delta_is_in_sorted_name_order() -> None:
    g = {"b": np.zeros(2, np.float32), "a": np.zeros(1, np.float32)}
    w = {"b": np.array([1.0, 2.0], np.float32), "a": np.array([5.0], np.float32)}
    assert signals.flat_delta(w, g).tolist() == [5.0, 1.0, 2.0]


def test_near_copies_are_found_whatever_their_scale() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=100), rng.normal(size=100)
    shrunk_copy = 0.9 * a + 1e-4 * rng.normal(size=100)
    assert signals.find_copies([a, b, shrunk_copy], 0.05) == {2: 0}
    assert signals.find_copies([a, b], 0.05) == {}


def _copies_pairwise(deltas: list[np.ndarray], tolerance: float) -> dict[int, int]:
    """The rule as defined: every pair, earliest original first."""
    units = [d / signals.norm(d) if signals.norm(d) > 0 else d for d in deltas]
    copies: dict[int, int] = {}
    for i in range(len(units)):
        for j in range(i):
            if j not in copies and signals.norm(units[i] - units[j]) <= tolerance:
                copies[i] = j
                break
    return copies


def test_near_copies_match_the_pairwise_rule_at_the_tolerance() -> None:
    rng = np.random.default_rng(1)
    base = [rng.normal(size=50) for _ in range(6)]
    deltas = [*base, np.zeros(50), np.zeros(50)]
    for k, scale in enumerate((0.5, 2.0, 1.0, 1.0)):
        unit = base[k] / signals.norm(base[k])
        side = rng.normal(size=50)
        side -= (side @ unit) * unit
        side /= signals.norm(side)
        # at, just inside and just outside the tolerance, and a copy of a copy
        offset = (0.05, 0.0499999, 0.0500001, 0.01)[k]
        deltas.append(scale * (unit + offset * side) / signals.norm(unit + offset * side))
    deltas.append(deltas[-1] * 3.0)
    assert signals.find_copies(deltas, 0.05) == _copies_pairwise(deltas, 0.05)
    assert signals.find_copies(deltas, 0.0) == _copies_pairwise(deltas, 0.0)
    assert signals.find_copies(deltas[:1], 0.05) == {}


def test_leave_one_out_means_equal_the_mean_of_the_rest() -> None:
    rng = np.random.default_rng(2)
    deltas = [rng.normal(size=30) for _ in range(5)]
    weights = [3.0, 1.0, 4.0, 1.0, 5.0]
    total = signals.weighted_sum(deltas, weights)
    for i in range(5):
        rest = [j for j in range(5) if j != i]
        expected = sum(weights[j] * deltas[j] for j in rest) / sum(weights[j] for j in rest)
        got = signals.mean_without(total, sum(weights), deltas[i], weights[i])
        assert np.allclose(got, expected, rtol=0, atol=1e-12)
    assert signals.mean_of(total, 0.0).tolist() == [0.0] * 30
    assert (
        signals.mean_without(signals.weighted_sum(deltas[:1], [2.0]), 2.0, deltas[0], 2.0).tolist()
        == [0.0] * 30
    )


def test_size_rule_names_free_riding_and_boosting() -> None:
    assert size_verdict(1.0, 1.0, RULES) is None
    assert size_verdict(2.9, 1.0, RULES) is None
    rider = size_verdict(0.04, 1.0, RULES)
    assert rider is not None and rider.score == 0 and rider.reason.startswith("free-riding")
    boosted = size_verdict(10.0, 1.0, RULES)
    assert boosted is not None and boosted.score == 0 and boosted.reason.startswith("norm")
    assert "10.0 x" in boosted.reason


def test_loss_and_harm_rules() -> None:
    base = Evaluation(0.9, 0.3)
    assert loss_verdict(base, Evaluation(0.5, 5.2), RULES) is None
    exploded = loss_verdict(base, Evaluation(0.1, 40.0), RULES)
    assert exploded is not None and exploded.reason.startswith("loss")
    nan = loss_verdict(base, Evaluation(float("nan"), 1.0), RULES)
    assert nan is not None and "not finite" in nan.reason
    assert harm_verdict(Evaluation(0.80, 0.5), Evaluation(0.85, 0.4), RULES) is None
    assert harm_verdict(Evaluation(0.70, 0.9), Evaluation(0.85, 0.4), RULES) is None
    harm = harm_verdict(Evaluation(0.50, 0.9), Evaluation(0.85, 0.4), RULES)
    assert harm is not None and harm.reason.startswith("harm")


def test_contribution_scores_alignment_and_size() -> None:
    assert contribution(1.0, 1.0, 1.0) == 10000
    assert contribution(0.5, 2.0, 1.0) == 5000
    assert contribution(0.5, 0.5, 1.0) == 2500
    assert contribution(0.00001, 1.0, 1.0) == 1


def test_metadata_must_match_the_round() -> None:
    want = ExpectedMeta(3, "0xAbC", "digits-mlp", "QmParent")
    meta = {"round": 3, "author": "0xabc", "architecture": "digits-mlp", "parent": "QmParent"}
    assert check_metadata(meta, want) is None
    assert check_metadata({**meta, "round": 2}, want) == "metadata: round is 2, expected 3"
    assert "author" in (check_metadata({**meta, "author": "0xdef"}, want) or "")
    assert "parent" in (check_metadata({**meta, "parent": "QmOther"}, want) or "")


def test_claimed_samples_are_bounded_by_cap_and_median() -> None:
    assert bounded_samples([100, 90, 110, 2**32 - 1], 10_000) == [100, 90, 110, 200]
    assert bounded_samples([100, 90, 110, 10**6], 150) == [100, 90, 110, 150]
    assert bounded_samples([], 10) == []


def test_score_round_orders_checks_and_names_each_signal() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=SIZE)
    honest = [reference + 0.8 * rng.normal(size=SIZE) for _ in range(4)]
    flipped = -reference + 0.3 * rng.normal(size=SIZE)
    updates = [
        _with(honest[0]),
        _global(),  # free-rider
        None,  # failed integrity
        _with(0.9 * honest[0]),  # plagiarist: the change of update 0, shrunk
        _with(honest[1]),
        _with(10 * honest[2]),  # boosted
        _with(flipped),
        _with(honest[3]),
    ]

    def evaluate(w: dict[str, np.ndarray]) -> Evaluation:
        return Evaluation(0.8, 0.5)

    verdicts = score_round(
        _global(),
        updates,
        evaluate,
        Evaluation(0.7, 0.6),
        RULES,
        failures={2: "integrity: content not found"},
        samples=[10] * 7 + [2**32 - 1],
        reference=_with(reference),
    )
    reasons = [v.reason.split(":")[0] for v in verdicts]
    assert reasons == [
        "accepted",
        "free-riding",
        "integrity",
        "plagiarism",
        "accepted",
        "norm",
        "direction",
        "accepted",
    ]
    for i in (0, 4, 7):
        d = signals.flat_delta(updates[i], _global())  # type: ignore[arg-type]
        assert verdicts[i].score == contribution(
            signals.cosine(d, reference), signals.norm(d), _median(updates)
        )


def _median(updates: list) -> float:
    sizes = [signals.norm(signals.flat_delta(u, _global())) for u in updates if u is not None]
    rng = np.random.default_rng(1)
    return float(np.median([*sizes, signals.norm(rng.normal(size=SIZE))]))


def test_direction_is_measured_on_the_head_when_named() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(size=SIZE)
    # the body ("w", sorted last) agrees with the reference; the head ("b") points away
    flipped = reference.copy()
    flipped[:8] = -reference[:8]
    updates = [_with(reference + 0.3 * rng.normal(size=SIZE)) for _ in range(3)] + [_with(flipped)]

    def evaluate(w: dict[str, np.ndarray]) -> Evaluation:
        return Evaluation(0.8, 0.5)

    whole = score_round(
        _global(), updates, evaluate, Evaluation(0.7, 0.6), RULES, reference=_with(reference)
    )
    assert whole[3].reason.startswith("accepted")
    on_head = score_round(
        _global(), updates, evaluate, Evaluation(0.7, 0.6), RULES,
        reference=_with(reference), head=("b",),
    )  # fmt: skip
    assert [v.reason.split(":")[0] for v in on_head] == ["accepted"] * 3 + ["direction"]


def test_leave_one_out_rejects_the_update_that_hurts_the_aggregate() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(size=SIZE)
    poison = np.zeros(SIZE)
    poison[0] = 1.0  # one coordinate only update 2 moves
    deltas = [reference + 0.5 * rng.normal(size=SIZE) for _ in range(3)]
    for d in deltas[:2]:
        d[0] = 0.0
    deltas[2][0] = 3.0

    def evaluate(w: dict[str, np.ndarray]) -> Evaluation:
        # The validation accuracy drops whenever update 2's change is part of the model.
        d = signals.flat_delta(w, _global())
        return Evaluation(0.6 if float(d @ poison) > 0.5 else 0.9, 0.5)

    verdicts = score_round(
        _global(), [_with(d) for d in deltas], evaluate, Evaluation(0.5, 0.7), RULES,
        reference=_with(reference),
    )  # fmt: skip
    assert [v.reason.split(":")[0] for v in verdicts] == ["accepted", "accepted", "harm"]


COLLUDERS = (2, 5, 6, 7, 14, 17)


def _round_with_colluders(seed: int, shared: float) -> list[np.ndarray]:
    """20 deltas: honest ones spread in many directions around a common one, and
    six colluders who add the same hidden change (a backdoor's) to theirs."""
    rng = np.random.default_rng(seed)
    common, hidden = rng.normal(size=SIZE), rng.normal(size=SIZE)
    return [
        common + 1.5 * rng.normal(size=SIZE) + (shared * hidden if i in COLLUDERS else 0)
        for i in range(20)
    ]


def test_principal_scores_ignore_scale() -> None:
    deltas = _round_with_colluders(4, 2.0)
    scaled = [d * (1 + i) for i, d in enumerate(deltas)]
    a, b = signals.principal_scores(deltas), signals.principal_scores(scaled)
    assert np.allclose(np.abs(a), np.abs(b))


def test_a_colluding_minority_is_found_and_rejected_by_the_cluster_rule() -> None:
    deltas = _round_with_colluders(4, 2.0)
    group = signals.find_group(deltas)
    assert group is not None and group.members == COLLUDERS
    assert group.separation > RULES.cluster_separation
    indices = list(range(100, 120))  # the rule reports update indices, not positions
    verdicts = cluster_verdicts(indices, deltas, RULES)
    assert sorted(verdicts) == [100 + i for i in COLLUDERS]
    v = verdicts[102]
    assert v.score == 0
    assert v.reason == (
        "cluster: one of 6 updates (102, 105, 106, 107, 114, 117) set apart from the "
        f"round's other 14 along its main direction: gap {group.gap:.3f} is "
        f"{group.separation:.2f} x the larger spread (bound 2.5 x)"
    )


def test_honest_updates_in_many_directions_form_no_group() -> None:
    for seed in range(5):
        deltas = _round_with_colluders(seed, 0.0)
        group = signals.find_group(deltas)
        assert group is not None and group.separation <= RULES.cluster_separation
        assert cluster_verdicts(list(range(20)), deltas, RULES) == {}


def test_a_group_is_a_strict_minority_of_at_least_two() -> None:
    rng = np.random.default_rng(5)
    assert signals.find_group([rng.normal(size=SIZE) for _ in range(4)]) is None
    hidden = rng.normal(size=SIZE)
    # 11 of 20 move together: the rule can only ever set apart fewer than half,
    # so it assumes (as FLAME does) that colluders are a minority of the round
    deltas = [rng.normal(size=SIZE) + (3 * hidden if i < 11 else 0) for i in range(20)]
    group = signals.find_group(deltas)
    assert group is not None and 2 <= len(group.members) <= 9


def test_a_lone_outlier_and_its_nearest_neighbour_are_no_group() -> None:
    # three near-identical honest updates, a fourth a little off, and a flipped one
    # (the direction rule's business): the flipper and the fourth are the most
    # separated pair, far from the rest next to the rest's tiny spread, but the
    # pair is not tighter than its distance to the rest
    rng = np.random.default_rng(6)
    common = rng.normal(size=SIZE)
    deltas = [common + 0.02 * rng.normal(size=SIZE) for _ in range(4)]
    deltas += [common + 0.3 * rng.normal(size=SIZE), -common]
    group = signals.find_group(deltas)
    assert group is not None and group.members == (4, 5)
    assert group.separation < 0.1
    assert cluster_verdicts(list(range(6)), deltas, RULES) == {}


def test_a_round_of_five_has_no_group_its_split_is_chance() -> None:
    # 2 against 3: the three's spread is too rough an estimate to call any pair a group
    rng = np.random.default_rng(7)
    common = rng.normal(size=SIZE)
    deltas = [common + 0.01 * rng.normal(size=SIZE) for _ in range(3)]
    deltas += [-common + 0.01 * rng.normal(size=SIZE) for _ in range(2)]
    assert signals.find_group(deltas) is None
    assert signals.find_group([*deltas, common + 0.01 * rng.normal(size=SIZE)]) is not None


def test_score_round_names_the_cluster_signal() -> None:
    deltas = _round_with_colluders(4, 2.0)
    rng = np.random.default_rng(4)
    common = rng.normal(size=SIZE)  # the same common direction as the round's

    def evaluate(w: dict[str, np.ndarray]) -> Evaluation:
        return Evaluation(0.8, 0.5)

    verdicts = score_round(
        _global(), [_with(d) for d in deltas], evaluate, Evaluation(0.7, 0.6), RULES,
        reference=_with(common),
    )  # fmt: skip
    reasons = [v.reason.split(":")[0] for v in verdicts]
    assert reasons == ["cluster" if i in COLLUDERS else "accepted" for i in range(20)]
