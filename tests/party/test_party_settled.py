"""A pool's shared reads: kept once settled, read afresh until then, read once for all."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase, Submission
from flchain.party.settled import PooledPort, SettledReads
from flchain.types import Address, CIDStr


def test_a_settled_value_is_read_once_and_an_unsettled_one_every_time() -> None:
    reads, calls = SettledReads(), []

    def read() -> int | None:
        calls.append(1)
        return None if len(calls) < 3 else 7

    settled = lambda v: v is not None  # noqa: E731
    assert [reads.get("k", read, settled) for _ in range(5)] == [None, None, 7, 7, 7]
    assert len(calls) == 3 and len(reads) == 1


def test_clients_asking_together_wait_for_one_read() -> None:
    reads, calls, start = SettledReads(), [], threading.Barrier(50)
    answers: list[str] = []

    def read() -> str:
        calls.append(1)
        time.sleep(0.05)
        return "cid"

    def client() -> None:
        start.wait()
        answers.append(reads.get(("certified", 0), read, lambda v: True))

    threads = [threading.Thread(target=client) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["cid"] * 50 and len(calls) == 1


class FakeProtocol:
    """The three reads :class:`PooledPort` makes, counted; round 0 finalizes after two asks."""

    def __init__(self) -> None:
        self.asked: dict[str, int] = {"phase": 0, "accepted": 0, "certified": 0}
        self.update = Submission(0, 0, Address("0x" + "11" * 20), CIDStr("bafy-update"), 10, 1)

    def phase(self, round: int) -> Phase:
        self.asked["phase"] += 1
        return Phase.FINALIZED if self.asked["phase"] > 2 else Phase.CLOSED

    def accepted_updates(self, round: int) -> list[Submission]:
        self.asked["accepted"] += 1
        return [self.update] if self.asked["phase"] > 2 else []

    def certified_aggregate(self, round: int) -> str | None:
        self.asked["certified"] += 1
        return "bafy-aggregate"


def test_pooled_clients_share_a_finalized_round_and_a_certified_cid() -> None:
    fake, reads = FakeProtocol(), SettledReads()
    ports = [PooledPort(cast(ProtocolClient, fake), reads) for _ in range(4)]
    seen: list[Any] = [p.accepted_updates(0) for p in ports]
    assert seen == [[], [], [fake.update], [fake.update]]
    assert fake.asked["accepted"] == 3  # the fourth client got the third's answer
    assert [p.certified_aggregate(0) for p in ports] == ["bafy-aggregate"] * 4
    assert fake.asked["certified"] == 1
