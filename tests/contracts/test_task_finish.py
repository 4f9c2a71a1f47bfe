"""A task of `rounds` rounds: the last finalization opens nothing, later rounds are refused."""

from __future__ import annotations

import os
from typing import Any

from protocol_helpers import Protocol, make_cid
from test_errors import raw, reverts

from flchain.chain.cidcodec import cid_to_bytes
from flchain.chain.protocol_types import Phase
from flchain.chain.revert_names import RevertName


def test_finalizing_the_last_round_finishes_the_task(deploy_with: Any) -> None:
    p: Protocol = deploy_with(rounds=2)
    p.register(clients=3, miners=3)
    p.admin.start_training()
    p.run_round(0, lambda n: [9_000] * n)
    assert not p.admin.task_finished()
    committee = p.run_round(1, lambda n: [9_000] * n)

    assert p.admin.task_finished()
    assert p.admin.current_round() == 1
    assert p.admin.phase(1) is Phase.FINALIZED
    assert p.admin.phase(2) is Phase.NOT_OPENED
    assert [e.args["round"] for e in p.admin.events("RoundOpened")] == [0, 1]
    assert [e.args["rounds"] for e in p.admin.events("TrainingFinished")] == [2]

    cid = cid_to_bytes(make_cid("late"))
    with reverts(RevertName.TaskFinished, 2, 2):
        raw(p, 1, "submitUpdate", 2, cid, 5)
    with reverts(RevertName.TaskFinished, 2, 2):
        committee[0].commit_votes(2, os.urandom(32))
    with reverts(RevertName.TaskFinished, 5, 2):
        committee[0].reveal_votes(5, [], os.urandom(32))
    with reverts(RevertName.TaskFinished, 2, 2):
        p.admin.finalize_round(2)
    with reverts(RevertName.TaskFinished, 2, 2):
        committee[0].certify_aggregate(2, make_cid("agg"))
    with reverts(RevertName.RoundAlreadyFinalized, 1):
        p.admin.finalize_round(1)

    # the last round's aggregate can still be certified, and bonds come back
    aggregate = make_cid("final aggregate")
    committee[0].certify_aggregate(1, aggregate)
    committee[1].certify_aggregate(1, aggregate)
    assert p.admin.certified_aggregate(1) == aggregate
    p.as_(1).leave()
    p.as_(1).withdraw()
    assert p.admin.client_state(p.address(1)).bond == 0
