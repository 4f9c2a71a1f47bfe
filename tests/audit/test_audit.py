"""Auditing real histories on Anvil: a clean run verifies; tampering is flagged, not crashed on."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
from audit_helpers import ATTACKERS, SILENT_MINER, BuiltTask
from flchain_cli import run_flchain

from flchain.audit.auditor import AuditReport, audit_history
from flchain.audit.history import Source, load_history, load_test_data
from flchain.chain.history import ProtocolHistory, Reward
from flchain.storage import CID, LocalStore

pytestmark = pytest.mark.xdist_group("audit")


def _history(built: BuiltTask) -> ProtocolHistory:
    return load_history(Source(built.node.rpc_url, built.run.protocol, built.run.block))


def _audit(built: BuiltTask, store: LocalStore | None = None) -> AuditReport:
    data = load_test_data("digits")
    return audit_history(_history(built), store or LocalStore(built.store_dir), test_data=data)


def test_clean_run_verifies(clean_task: BuiltTask) -> None:
    report = _audit(clean_task)
    assert report.discrepancies == []
    assert report.verified
    finalized = [r for r in report.rounds if r.finalized]
    assert len(finalized) == 3
    for r, certified, accepted in zip(
        finalized, clean_task.run.certified, clean_task.run.accepted, strict=True
    ):
        assert r.aggregate_status == "match"
        assert r.recomputed_cid == r.certified_cid == certified
        assert r.accepted == len(accepted) and r.submitted == 6
        assert r.accuracy is not None and 0.0 <= r.accuracy <= 1.0
        assert r.gas_used > 0
    assert len(report.rounds) == 3  # the last finalize finished the task: no round 3
    history = _history(clean_task)
    assert all(r.expected_seed == r.seed for r in history.rounds)  # seeds were checked
    assert all(r.expected_seed is not None for r in history.rounds)


def test_rejected_attackers_are_shown_with_the_reasons(clean_task: BuiltTask) -> None:
    report = _audit(clean_task)
    attackers = {clean_task.run.clients[i]: kind for i, kind in ATTACKERS.items()}
    for r in report.rounds:
        for u in r.updates:
            if u.client not in attackers or not r.finalized:
                continue
            assert u.accepted is False and u.recomputed_accepted is False
            assert u.median is not None and u.median < int(report.task["acceptance_threshold"])
            assert u.scores and all(s == 0 for s in u.scores.values())
            assert u.check is not None and u.check.score == 0  # the auditor agrees
            if attackers[u.client] == "free-rider":
                assert (u.check.reason or "").startswith("free-riding")
            else:  # noise and sign flips: far larger than the round's median change
                assert (u.check.reason or "").split(":")[0] in ("norm", "direction", "loss")
    assert all(report.rewards.get(a, 0) == 0 for a in attackers)
    # honest clients earned, and their reputation grew
    honest = [a for a in clean_task.run.clients if a not in attackers]
    assert all(report.rewards[a] > 0 for a in honest)
    assert all(report.client_reputation[a] == [80, 60, 40] for a in attackers)
    assert all(report.client_reputation[a][-1] > 100 for a in honest if report.rewards[a] > 0)


def test_silent_miner_is_slashed_and_dropped(clean_task: BuiltTask) -> None:
    report = _audit(clean_task)
    silent = clean_task.run.miners[SILENT_MINER]
    first = report.rounds[0]
    assert silent in first.committee and silent not in first.revealed
    assert first.slashes[silent] > 0
    votes = {v["miner"]: v for v in first.votes}
    assert votes[silent]["commitment"] is not None and votes[silent]["revealed"] is False
    assert int(votes[silent]["slashed"]) == first.slashes[silent]
    others = [v for m, v in votes.items() if m != silent]
    assert all(v["commitment_ok"] is True and int(v["reward"]) > 0 for v in others)
    assert all(silent not in r.committee for r in report.rounds[1:])
    history = _history(clean_task)
    assert history.rounds[0].miners_dropped == [silent]


def test_a_corrupted_update_flags_its_round_and_the_audit_goes_on(
    clean_task: BuiltTask, tmp_path: Path
) -> None:
    store = clean_task.copy_store(tmp_path / "store")
    history = _history(clean_task)
    victim = next(
        s
        for s in history.rounds[1].submissions
        if s.index in history.rounds[1].finalization.accepted
    )  # type: ignore[union-attr]
    path = store.block_path(CID.parse(victim.cid))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    report = audit_history(history, store, test_data=load_test_data("digits"))
    assert not report.verified
    flagged = {d.round for d in report.discrepancies}
    assert flagged == {1}
    checks = {d.check for d in report.discrepancies}
    assert checks == {"accepted update verifies", "certified aggregate"}
    bad = next(d for d in report.discrepancies if d.check == "accepted update verifies")
    assert victim.cid in bad.subject and "IntegrityError" in str(bad.recomputed)
    assert report.rounds[1].aggregate_status == "unverifiable"
    # round 2 starts from the certified model and verifies
    assert report.rounds[0].aggregate_status == "match"
    assert report.rounds[2].aggregate_status == "match"


CRAFTED = {
    "nested 200,000 deep": (b'{"a":' * 200_000 + b"1" + b"}" * 200_000, "nests at least"),
    "round \u00b2": (
        b'{"__metadata__":{"round":"\xc2\xb2","author":"0x%s","architecture":"a","parent":""}}'
        % (b"ab" * 20),
        "round '\u00b2' is not a whole number",
    ),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_a_crafted_accepted_update_is_a_finding_not_a_crash(
    clean_task: BuiltTask, tmp_path: Path, name: str
) -> None:
    header, reason = CRAFTED[name]
    store = clean_task.copy_store(tmp_path / "store")
    crafted = store.put(len(header).to_bytes(8, "little") + header)
    history = copy.deepcopy(_history(clean_task))
    rec = history.rounds[1]
    assert rec.finalization is not None
    at = next(i for i, s in enumerate(rec.submissions) if s.index in rec.finalization.accepted)
    rec.submissions[at] = dataclasses.replace(rec.submissions[at], cid=crafted)

    report = audit_history(history, store)  # web3 is imported: the recursion limit is high
    bad = next(d for d in report.discrepancies if d.check == "accepted update verifies")
    assert bad.round == 1 and crafted in bad.subject
    assert "HeaderError" in str(bad.recomputed) and reason in str(bad.recomputed)
    assert report.rounds[1].aggregate_status == "unverifiable"
    assert report.rounds[2].aggregate_status == "match"


def test_a_forged_certification_is_flagged(forged_task: BuiltTask) -> None:
    report = _audit(forged_task)
    assert not report.verified
    (d,) = report.discrepancies
    assert (d.round, d.check) == (1, "certified aggregate")
    assert d.chain_value == forged_task.run.certified[1]
    assert d.recomputed == forged_task.run.aggregates[1]
    assert [r.aggregate_status for r in report.rounds if r.finalized] == [
        "match",
        "mismatch",
        "match",
    ]


def test_without_the_models_the_chain_is_still_checked(
    clean_task: BuiltTask, tmp_path: Path
) -> None:
    history = _history(clean_task)
    report = audit_history(history, LocalStore(tmp_path / "empty"))
    (d,) = report.discrepancies
    assert (d.round, d.check, d.subject) == (None, "task spec fetched", history.params.spec_cid)
    assert all(r.aggregate_status == "not checked" for r in report.rounds if r.finalized)
    assert all(r.cid_ok is None for r in report.rounds)
    chain_only = audit_history(history, None)
    assert chain_only.verified and chain_only.rewards == report.rewards


def test_altered_chain_facts_are_recomputed_not_trusted(clean_task: BuiltTask) -> None:
    history = copy.deepcopy(_history(clean_task))
    rec = history.rounds[1]
    reward = rec.rewards[0]
    rec.rewards[0] = Reward(reward.account, reward.amount + 1)
    reveal = rec.reveals[0]
    rec.reveals[0] = dataclasses.replace(reveal, salt=bytes(32))
    scored = rec.scored[2]
    rec.scored[2] = dataclasses.replace(scored, median=scored.median + 1)
    rec.seed = bytes(32)
    att = rec.attestations[0]
    rec.attestations[0] = dataclasses.replace(att, attester=rec.submissions[0].client)
    report = audit_history(history, None)
    found = {(d.round, d.check) for d in report.discrepancies}
    assert (1, "reward") in found
    assert (1, "reveal matches commitment") in found
    assert (1, "median score") in found
    assert (1, "committee seed") in found
    assert (1, "attestation by a committee member") in found
    # the altered salt also changes the seed derived for round 2, and only that
    later = {(d.round, d.check) for d in report.discrepancies if d.round != 1}
    assert later <= {(2, "committee seed")}


def test_a_submitter_outside_the_sample_is_flagged(clean_task: BuiltTask) -> None:
    history = copy.deepcopy(_history(clean_task))
    history.params = dataclasses.replace(history.params, clients_per_round=2)  # 2 of the 6
    history.rounds[0].population += 1
    report = audit_history(history, None)
    assert (0, "sampling population") in {(d.round, d.check) for d in report.discrepancies}
    outside = [d for d in report.discrepancies if d.check == "submitter sampled"]
    assert len([d for d in outside if d.round == 1]) == 6 - 2  # redrawn from round 1's seed
    assert not report.verified


def test_claims_are_checked_against_credits_and_supply(clean_task: BuiltTask) -> None:
    history = copy.deepcopy(_history(clean_task))
    assert history.claimed and history.token_supply == sum(history.claimed.values())
    assert audit_history(history, None).verified
    who = next(iter(history.claimed))
    history.claimable[who] += 1  # the contract would owe more than was credited
    history.token_supply += 1  # and a token was minted without a claim
    report = audit_history(history, None)
    found = {(d.check, d.subject) for d in report.discrepancies}
    assert found == {("claimable reward", who), ("token supply", "token")}


def test_a_malformed_reveal_is_flagged_not_crashed_on(clean_task: BuiltTask) -> None:
    history = copy.deepcopy(_history(clean_task))
    rec = history.rounds[1]
    rec.reveals[1] = dataclasses.replace(rec.reveals[1], scores=rec.reveals[1].scores[:-1])
    report = audit_history(history, None)
    found = {(d.round, d.check) for d in report.discrepancies}
    assert (1, "number of scores revealed") in found
    assert (1, "acceptance") in found  # one reveal short of the quorum: nothing decided
    # later rounds follow from round 1's different outcome; nothing earlier is flagged
    assert min(d.round for d in report.discrepancies if d.round is not None) == 1


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_flchain("audit", *args)


@pytest.mark.slow
def test_cli_json_and_exit_status(clean_task: BuiltTask, tmp_path: Path) -> None:
    common = ["--rpc", clean_task.node.rpc_url, "--address", clean_task.run.protocol]
    ok = _cli(*common, "--store", str(clean_task.store_dir), "--json", "--no-rescore")
    assert ok.returncode == 0, ok.stderr
    body = json.loads(ok.stdout)
    assert body["verified"] is True and body["discrepancies"] == []
    assert [r["cid_ok"] for r in body["rounds"]] == [
        True,
        True,
        True,
    ]  # no round 3: the task finished

    store = clean_task.copy_store(tmp_path / "store")
    history = _history(clean_task)
    victim = history.rounds[0].submissions[history.rounds[0].finalization.accepted[0]]  # type: ignore[union-attr]
    store.block_path(CID.parse(victim.cid)).write_bytes(b"not the block")
    bad = _cli(*common, "--store", str(tmp_path / "store"))
    assert bad.returncode == 1, bad.stderr
    assert "NOT VERIFIED" in bad.stdout and "round(s) 0" in bad.stdout

    missing = _cli("--rpc", clean_task.node.rpc_url, "--store", str(tmp_path / "store"))
    assert missing.returncode == 2 and "--address" in missing.stderr
    eoa = clean_task.run.clients[0]
    wrong = _cli("--rpc", clean_task.node.rpc_url, "--address", eoa, "--store", str(tmp_path))
    assert wrong.returncode == 2 and "does not look like an FLchain protocol" in wrong.stderr
