"""What each client behaviour submits, and that the miners' rules catch the adversaries."""

from __future__ import annotations

import numpy as np

from clients.behaviours import craft, plagiarise
from flchain.task.quality import size_verdict
from flchain.task.signals import find_copies, flat_delta, norm
from flchain.task.spec import ScoreRules

RULES = ScoreRules()


def _model(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(0, 0.1, size=(8, 4)).astype(np.float32), "b": np.zeros(8, np.float32)}


DATA = (np.zeros((4, 2), np.float32), np.zeros(4, np.int64))


def _apply(behaviour: str, g: dict, trained: dict, rng: np.random.Generator) -> dict:
    return dict(
        craft(behaviour, g, DATA, lambda d: trained, rng, num_classes=10, n_clients=4).weights
    )


def test_honest_submits_its_training_and_signflip_reverses_it() -> None:
    g, trained = _model(0), _model(1)
    rng = np.random.default_rng(0)
    honest = _apply("honest", g, trained, rng)
    assert all(np.array_equal(honest[k], trained[k]) for k in g)
    flipped = _apply("signflip", g, trained, rng)
    expected = g["w"] - 10 * (trained["w"] - g["w"])
    assert np.allclose(flipped["w"], expected, atol=1e-5)


def test_free_rider_is_unchanged_and_noise_is_large() -> None:
    g = _model(0)
    rng = np.random.default_rng(0)
    rider = _apply("free-rider", g, g, rng)
    verdict = size_verdict(norm(flat_delta(rider, g)), 1.0, RULES)
    assert verdict is not None and verdict.reason.startswith("free-riding")
    noisy = _apply("noise", g, g, rng)
    assert float(np.abs(noisy["w"] - g["w"]).mean()) > 0.5


def test_plagiarist_copy_is_caught_as_a_later_near_copy() -> None:
    g, victim, other = _model(0), _model(1), _model(2)
    copy = plagiarise(g, victim, np.random.default_rng(3))
    assert not all(np.array_equal(copy[k], victim[k]) for k in g)
    deltas = [flat_delta(w, g) for w in (victim, other, copy)]
    assert find_copies(deltas, RULES.duplicate_tolerance) == {2: 0}
