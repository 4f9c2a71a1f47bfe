"""Learning tests train tiny models: one torch thread is fastest and shares the CPU fairly."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    from flchain.learning.training import configure_torch

    configure_torch(1)
