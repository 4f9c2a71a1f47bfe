"""One warm-up per session: torch's first training step costs seconds, later ones milliseconds."""

from __future__ import annotations

import pytest
from party_world import SPEC

from flchain.party.workload import load_workload


@pytest.fixture(scope="session", autouse=True)
def _torch_warmed_up() -> None:
    work = load_workload(SPEC)
    work.program.warm_up(0)
