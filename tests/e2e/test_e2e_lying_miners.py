"""Two colluding miners of a committee of five invert their scores: no decision changes,
and they lose reputation and rewards every round they lie."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_helpers import small_spec

from flchain.run.orchestrator import RunResult

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_two_lying_miners_change_no_decision_and_lose_reputation(
    run_e2e: Callable[..., RunResult],
) -> None:
    spec = small_spec(clients=4, miners=5, committee=5, rounds=2)
    liars = {0: "inverted-scores", 1: "inverted-scores"}
    result = run_e2e(spec, malicious="free-rider:1", miner_behaviours=liars)
    summary = result.summary
    assert summary["decisions_changed"] == 0
    assert summary["rejected_by_behaviour"] == {"free-rider": 2}
    assert summary["accepted_by_behaviour"] == {"honest": 6}
    parties = summary["parties"]
    liar_addresses = {parties[f"miner-{j}"]["address"] for j in liars}
    honest_miners = {parties[f"miner-{j}"]["address"] for j in (2, 3, 4)}
    for a in liar_addresses:
        assert summary["reputation"][a] < 100  # started at 100, lost every round
        assert summary["rewards"][a] < min(summary["rewards"][h] for h in honest_miners)
    for h in honest_miners:
        assert summary["reputation"][h] > 100
