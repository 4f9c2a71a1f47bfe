"""The event log alone tells the whole story of a round (what an auditor rebuilds from)."""

from __future__ import annotations

import os
import statistics
from collections import defaultdict
from typing import Any

from protocol_helpers import PARAMS, Protocol, make_cid

from flchain.chain import iter_logs
from flchain.chain.cidcodec import bytes_to_cid
from flchain.chain.history_types import unpack16
from flchain.chain.protocol_types import Phase


def events(p: Protocol) -> dict[str, list[dict[str, Any]]]:
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    abi = p.admin.abi.abi
    for e in iter_logs(p.w3, p.deployment.protocol, abi, None, p.deployment.block):
        by_name[e.name].append(e.args)
    return by_name


def test_a_round_rebuilt_from_logs(proto: Protocol) -> None:
    proto.register(clients=3, miners=3)
    proto.admin.start_training()
    cids = [make_cid(f"update {i}") for i in (1, 2, 3)]
    for i, cid in zip((1, 2, 3), cids, strict=True):
        proto.as_(i).submit_update(0, cid, 100 * i)
    a, b, c = proto.committee_clients(0)
    votes = {a.account: [8_000, 1_000, 6_000], b.account: [7_000, 6_000, 4_000]}
    salts = {m.account: os.urandom(32) for m in (a, b, c)}
    for m in (a, b):
        m.commit_votes(0, m.vote_commitment(0, votes[m.account], salts[m.account]))
    c.commit_votes(0, c.vote_commitment(0, [1, 2, 3], salts[c.account]))
    for m in (a, b):
        m.reveal_votes(0, votes[m.account], salts[m.account])
    proto.advance(PARAMS.reveal_duration)  # c never reveals
    assert proto.admin.phase(0) is Phase.CLOSED
    proto.admin.finalize_round(0)
    aggregate = make_cid("aggregate")
    a.certify_aggregate(0, aggregate)
    b.certify_aggregate(0, aggregate)

    log = events(proto)
    assert [e["client"] for e in log["ClientRegistered"]] == [proto.address(i) for i in (1, 2, 3)]
    assert all(e["bond"] == PARAMS.client_bond and e["reputation"] == 100
               for e in log["ClientRegistered"])  # fmt: skip
    assert len(log["MinerRegistered"]) == 3
    assert [e["round"] for e in log["RoundOpened"]] == [0, 1]
    assert log["CommitteeDrawn"][0]["members"] == [a.account, b.account, c.account]

    submitted = log["UpdateSubmitted"]
    assert [bytes_to_cid(e["cid"]) for e in submitted] == cids
    assert [(e["index"], e["numSamples"]) for e in submitted] == [(0, 100), (1, 200), (2, 300)]

    assert {e["miner"]: e["commitment"] for e in log["VotesCommitted"]}[a.account] == (
        a.vote_commitment(0, votes[a.account], salts[a.account])
    )
    revealed = {e["miner"]: unpack16(e["scores"], e["count"]) for e in log["VotesRevealed"]}
    assert revealed == votes

    # the auditor's recomputation: lower median of the revealed scores, threshold, quorum
    (page,) = log["UpdatesScored"]  # three updates: one page
    assert (page["firstIndex"], page["count"], page["reveals"]) == (0, 3, 2)
    medians = [(page["medians"][0] >> (16 * i)) & 0xFFFF for i in range(3)]
    accepted = [bool((page["acceptedBits"] >> i) & 1) for i in range(3)]
    for i in range(3):
        column = sorted(s[i] for s in revealed.values())
        assert medians[i] == column[(len(column) - 1) // 2] == statistics.median_low(column)
        assert accepted[i] == (medians[i] >= PARAMS.acceptance_threshold)
    assert accepted == [True, False, False]
    final = log["RoundFinalized"][0]
    counts = (final["numSubmissions"], final["numAccepted"], final["numReveals"])
    assert counts == (3, 1, 2)
    outcome = proto.admin.round_outcome(0)
    assert outcome is not None and outcome.accepted == (0,)
    assert [(u.client, u.median) for u in outcome.updates] == list(
        zip([proto.address(i) for i in (1, 2, 3)], medians, strict=True)
    )

    # clients are settled lazily, without events: their records say what they earned
    clients = {proto.address(i) for i in (1, 2, 3)}
    assert all(e["account"] not in clients for e in log["Rewarded"] + log["ReputationChanged"])
    assert proto.admin.claimable(proto.address(1)) == PARAMS.client_reward_per_round
    assert proto.admin.claimable(proto.address(2)) == 0
    assert proto.admin.reputation(proto.address(1)) == 110
    assert proto.admin.reputation(proto.address(2)) == 80
    slashed = log["Slashed"]
    assert [(e["miner"], e["amount"]) for e in slashed] == [
        (c.account, PARAMS.miner_bond * PARAMS.slash_bps // 10_000)
    ]
    changes = {(e["account"], e["oldReputation"], e["newReputation"])
               for e in log["ReputationChanged"]}  # fmt: skip
    assert (c.account, 100, 50) in changes

    attested = log["AggregateAttested"]
    assert [(e["attester"], bytes_to_cid(e["cid"])) for e in attested] == [
        (a.account, aggregate),
        (b.account, aggregate),
    ]
    assert [bytes_to_cid(e["cid"]) for e in log["AggregateCertified"]] == [aggregate]
    assert log["MinerLeft"] == [{"miner": c.account, "round": 0}]  # bond fell below minimum
