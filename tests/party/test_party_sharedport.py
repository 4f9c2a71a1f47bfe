"""A pool's shared view of the chain: settled answers kept, moving ones reused briefly,
one read when clients ask together, one nudge per interval, a cap on sends in flight."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Phase, Submission
from flchain.party.sharedport import PooledPort, SharedReads
from flchain.types import Address, CIDStr


def test_a_settled_answer_is_kept_and_an_unsettled_one_read_again() -> None:
    shared, calls = SharedReads(), []

    def read() -> int | None:
        calls.append(1)
        return None if len(calls) < 3 else 7

    answers = [shared.get("k", read, lambda v: v is not None) for _ in range(5)]
    assert answers == [None, None, 7, 7, 7] and len(calls) == 3


def test_a_moving_answer_is_reused_for_its_max_age_only() -> None:
    shared, calls = SharedReads(), []

    def read() -> int:
        calls.append(1)
        return len(calls)

    assert [shared.get("info", read, max_age=0.2) for _ in range(3)] == [1, 1, 1]
    time.sleep(0.25)
    assert shared.get("info", read, max_age=0.2) == 2


def test_clients_asking_together_wait_for_one_read() -> None:
    shared, calls, start = SharedReads(), [], threading.Barrier(50)
    answers: list[str] = []

    def read() -> str:
        calls.append(1)
        time.sleep(0.05)
        return "cid"

    def client() -> None:
        start.wait()
        answers.append(shared.get(("certified", 0), read, lambda v: True))

    threads = [threading.Thread(target=client) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["cid"] * 50 and len(calls) == 1


def test_a_pool_nudges_once_per_interval() -> None:
    shared = SharedReads()
    assert [shared.due("nudge", 0.2) for _ in range(3)] == [True, False, False]
    time.sleep(0.25)
    assert shared.due("nudge", 0.2)


class FakeProtocol:
    """The reads and writes :class:`PooledPort` makes, counted; round 0 is finalized from the
    third phase asked on."""

    def __init__(self) -> None:
        self.asked: dict[str, int] = {"phase": 0, "accepted": 0, "certified": 0, "mined": 0}
        self.update = Submission(0, 0, Address("0x" + "11" * 20), CIDStr("bafy-update"), 10, 1)
        self.sending = 0
        self.most_sending = 0

    def phase(self, round: int) -> Phase:
        self.asked["phase"] += 1
        return Phase.FINALIZED if self.asked["phase"] > 2 else Phase.CLOSED

    def accepted_updates(self, round: int) -> list[Submission]:
        self.asked["accepted"] += 1
        return [self.update] if self.asked["phase"] > 2 else []

    def certified_aggregate(self, round: int) -> str | None:
        self.asked["certified"] += 1
        return "bafy-aggregate"

    def mine_block(self) -> None:
        self.asked["mined"] += 1

    def claim(self) -> dict[str, Any]:
        self.sending += 1
        self.most_sending = max(self.most_sending, self.sending)
        time.sleep(0.02)
        self.sending -= 1
        return {"transactionHash": b"\x01" * 32, "gasUsed": 1, "blockNumber": 1, "status": 1}


def test_pooled_clients_share_reads_and_nudges_and_queue_their_sends() -> None:
    fake, shared = FakeProtocol(), SharedReads(sends_in_flight=3)
    ports = [PooledPort(cast(ProtocolClient, fake), shared) for _ in range(12)]
    seen: list[Any] = [p.accepted_updates(0) for p in ports[:4]]
    assert seen == [[], [], [fake.update], [fake.update]]
    assert fake.asked["accepted"] == 3  # the fourth client got the third's answer
    assert [p.certified_aggregate(0) for p in ports] == ["bafy-aggregate"] * 12
    assert fake.asked["certified"] == 1
    for p in ports:
        p.mine_block()
    assert fake.asked["mined"] == 1
    threads = [threading.Thread(target=p.claim) for p in ports]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.most_sending == 3
