"""Vote salts are reproducible per (key, chain, task, round) and differ otherwise."""

from __future__ import annotations

from flchain.task.salt import derive_salt

KEY = bytes(range(32))
TASK = "0x" + "ab" * 20


def test_same_inputs_same_salt_and_32_bytes() -> None:
    assert derive_salt(KEY, 1, TASK, 3) == derive_salt(KEY, 1, TASK.upper(), 3)
    assert len(derive_salt(KEY, 1, TASK, 3)) == 32


def test_any_changed_input_changes_the_salt() -> None:
    base = derive_salt(KEY, 1, TASK, 3)
    others = {
        derive_salt(bytes(32), 1, TASK, 3),
        derive_salt(KEY, 2, TASK, 3),
        derive_salt(KEY, 1, "0x" + "cd" * 20, 3),
        derive_salt(KEY, 1, TASK, 4),
    }
    assert base not in others and len(others) == 4
