"""The auditor's mirror of the contract (``flchain/audit/checks.py``) uses the
contract's own constants: each is read from the deployed contract, not copied."""

from __future__ import annotations

import pytest
from protocol_helpers import Protocol

from flchain.audit import checks
from flchain.chain.protocol_types import (
    FINALIZE_PAGE,
    MAX_COMMITTEE,
    MAX_TASK_REWARD,
    MAX_UPDATES,
    PREPARE_PAGE,
)
from flchain.types import MAX_SCORE

MIRRORED = (
    "INITIAL_REPUTATION",
    "MAX_REPUTATION",
    "CLIENT_GAIN",
    "CLIENT_LOSS",
    "MINER_GAIN",
    "MINER_LOSS",
    "SLASH_LOSS",
)


@pytest.mark.parametrize("name", MIRRORED)
def test_audit_constant_equals_the_contracts(proto: Protocol, name: str) -> None:
    (on_chain,) = proto.admin._view(name)
    assert getattr(checks, name) == on_chain


def test_python_bounds_equal_the_contracts(proto: Protocol) -> None:
    for name, ours in (
        ("MAX_SCORE", MAX_SCORE),
        ("MAX_COMMITTEE", MAX_COMMITTEE),
        ("MAX_UPDATES", MAX_UPDATES),
        ("MAX_TASK_REWARD", MAX_TASK_REWARD),
        ("FINALIZE_PAGE", FINALIZE_PAGE),
        ("PREPARE_PAGE", PREPARE_PAGE),
    ):
        (on_chain,) = proto.admin._view(name)
        assert ours == on_chain, name
