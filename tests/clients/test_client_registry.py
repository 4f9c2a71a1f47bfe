"""The client's behaviour registry and its CLI names."""

from __future__ import annotations

import numpy as np
import pytest

from clients.behaviours import TRAINS, UPDATE_RULES, apply_behaviour
from flchain.party.behaviours import CLIENT_BEHAVIOURS, ClientBehaviour


def test_the_cli_names_are_unchanged_and_every_rule_is_named() -> None:
    assert CLIENT_BEHAVIOURS == ("honest", "noise", "signflip", "free-rider", "plagiarist")
    assert set(UPDATE_RULES) | {ClientBehaviour.PLAGIARIST} == set(ClientBehaviour)
    assert {"honest", "signflip"} == TRAINS


@pytest.mark.parametrize("behaviour", ["plagiarist", "honest", "evil"])
def test_a_behaviour_that_cannot_apply_says_so(behaviour: str) -> None:
    g = {"w": np.zeros(3, np.float32)}
    with pytest.raises(ValueError, match=repr(behaviour)):
        apply_behaviour(behaviour, g, None, np.random.default_rng(0))  # nothing trained
