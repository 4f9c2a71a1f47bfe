"""Proof-of-quality rules on real arrays."""

from __future__ import annotations

import numpy as np

from flchain.task.quality import (
    Evaluation,
    find_copies,
    flat_delta,
    quality_verdict,
    score_round,
    with_share,
)
from flchain.task.spec import ScoreRules

RULES = ScoreRules()


def _weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "fc.weight": rng.normal(size=(4, 3)).astype(np.float32),
        "fc.bias": rng.normal(size=4).astype(np.float32),
    }


def _moved(base: dict[str, np.ndarray], rng: np.random.Generator, scale: float) -> dict:
    return {k: (v + scale * rng.normal(size=v.shape)).astype(np.float32) for k, v in base.items()}


def test_flat_delta_is_in_sorted_name_order() -> None:
    g = {"b": np.zeros(2, np.float32), "a": np.zeros(1, np.float32)}
    w = {"b": np.array([1.0, 2.0], np.float32), "a": np.array([5.0], np.float32)}
    assert flat_delta(w, g).tolist() == [5.0, 1.0, 2.0]


def test_later_near_copy_is_flagged_not_the_original() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=100)
    b = rng.normal(size=100)
    copy_of_a = a + 1e-4 * rng.normal(size=100)
    assert find_copies([a, b, copy_of_a], RULES) == {2: 0}


def test_quality_rejects_exploding_losses_and_harmful_shares() -> None:
    base = Evaluation(accuracy=0.9, loss=0.3)
    fine = Evaluation(0.9, 0.28)
    assert quality_verdict(base, Evaluation(0.8, 0.5), fine, RULES).score == 8000
    skewed = quality_verdict(base, Evaluation(0.35, 3.0), Evaluation(0.82, 0.4), RULES)
    assert skewed.score == 3500  # an honest client on skewed data: poor alone, harmless shared
    harmful = quality_verdict(base, Evaluation(0.5, 1.0), Evaluation(0.55, 1.1), RULES)
    assert harmful.score == 0 and "share" in harmful.reason
    noisy = quality_verdict(base, Evaluation(0.1, 40.0), fine, RULES)
    assert noisy.score == 0 and "loss" in noisy.reason
    first = Evaluation(accuracy=0.1, loss=2.3)
    assert quality_verdict(first, Evaluation(0.12, 40.0), first, RULES).score == 0
    assert quality_verdict(first, Evaluation(0.6, 1.2), first, RULES).score == 6000
    assert quality_verdict(first, Evaluation(0.0, 2.2), first, RULES).score == 1
    nan = Evaluation(float("nan"), 1.0)
    assert quality_verdict(first, nan, first, RULES).score == 0


def test_with_share_moves_by_the_fraction() -> None:
    g = {"w": np.zeros(3, np.float32)}
    u = {"w": np.array([1.0, 2.0, -4.0], np.float32)}
    assert with_share(u, g, 0.25)["w"].tolist() == [0.25, 0.5, -1.0]


def test_score_round_orders_checks_and_explains_each_verdict() -> None:
    rng = np.random.default_rng(1)
    g = _weights(rng)
    honest = _moved(g, rng, 0.1)
    other = _moved(g, rng, 0.1)
    plagiarist = _moved(honest, rng, 1e-5)
    free_rider = {k: v.copy() for k, v in g.items()}
    noisy = _moved(g, rng, 50.0)

    def evaluate(w: dict[str, np.ndarray]) -> Evaluation:
        if np.array_equal(w["fc.bias"], noisy["fc.bias"]):
            return Evaluation(0.1, 40.0)
        return Evaluation(0.7, 0.9)

    verdicts = score_round(
        g,
        [honest, free_rider, None, plagiarist, other, noisy],
        evaluate,
        Evaluation(0.6, 1.0),
        RULES,
        failures={2: "content not found"},
        samples=[10, 10, 10, 10, 10, 10],
    )
    scores = [v.score for v in verdicts]
    assert scores == [7000, 0, 0, 0, 7000, 0]
    assert "free-riding" in verdicts[1].reason
    assert verdicts[2].reason == "content not found"
    assert "plagiarism" in verdicts[3].reason and "update 0" in verdicts[3].reason
    assert "loss" in verdicts[5].reason
