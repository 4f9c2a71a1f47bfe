"""One warm-up per session: torch's first training step costs seconds, later ones milliseconds."""

from __future__ import annotations

import pytest
from party_world import SPEC

from flchain.party.workload import load_workload, warm_up


@pytest.fixture(scope="session", autouse=True)
def _torch_warmed_up() -> None:
    work = load_workload(SPEC)
    warm_up(work, work.data.clients[0].train)
