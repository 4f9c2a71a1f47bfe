"""Shared pytest configuration. Fixtures for each subsystem live beside its tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's top directory (where package.json and node_modules live)."""
    return REPO_ROOT
