"""The party's waiting loop and the node adapter's typed results."""

from __future__ import annotations

from pathlib import Path

import pytest
from party_world import World

from flchain.chain.protocol_types import TxResult
from flchain.exceptions import RoundTimeoutError


def test_waiting_times_out_with_a_message_naming_what_was_awaited(tmp_path: Path) -> None:
    party = World(tmp_path).party("client", 0)
    with pytest.raises(RoundTimeoutError, match=r"^timed out after 0.05 s waiting for Godot$"):
        party.wait_for("Godot", lambda: None, 0.05)


def test_a_party_past_a_deadline_asks_for_a_block_then_sees_the_value(tmp_path: Path) -> None:
    world = World(tmp_path)
    party = world.party("miner", 0)
    answers = iter([None, None, "done"])
    assert party.wait_for("x", lambda: next(answers), 1.0, lambda: world.chain.time()) == "done"
    assert world.chain.empty_blocks == 1  # one nudge, then at most one per half second


def test_a_party_before_its_deadline_does_not_mine(tmp_path: Path) -> None:
    world = World(tmp_path)
    party = world.party("miner", 0)
    answers = iter([None, "done"])
    assert party.wait_for("x", lambda: next(answers), 1.0, lambda: world.chain.time() + 1)
    assert world.chain.empty_blocks == 0


def test_a_node_receipt_becomes_a_tx_result() -> None:
    receipt = {"gasUsed": 51_234, "transactionHash": bytes.fromhex("ab" * 32), "status": 1}
    assert TxResult.from_receipt(receipt) == TxResult(51_234, "0x" + "ab" * 32)
