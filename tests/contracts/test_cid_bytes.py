"""CID strings <-> bytes, vote commitments and task parameters agree with the contract."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from protocol_helpers import PARAMS, Protocol, make_cid

from flchain.chain.cidcodec import bytes_to_cid, check_cid_bytes, cid_to_bytes
from flchain.chain.protocol import vote_commitment
from flchain.chain.protocol_types import MAX_TASK_REWARD, MAX_UPDATES, TaskParams
from flchain.exceptions import CIDError, ConfigError

digests = st.binary(min_size=32, max_size=32).filter(any)
prefixes = st.sampled_from([b"\x12\x20", b"\x01\x55\x12\x20", b"\x01\x70\x12\x20"])


@given(prefix=prefixes, digest=digests)
def test_cid_bytes_round_trip_exactly(prefix: bytes, digest: bytes) -> None:
    data = prefix + digest
    text = bytes_to_cid(data)
    assert text.startswith("Qm" if len(data) == 34 else "baf")
    assert cid_to_bytes(text) == data


def test_known_cids() -> None:
    digest = hashlib.sha256(b"hello\n").digest()
    # `ipfs add --raw-leaves --cid-version 1` of "hello\n", and its CIDv0 form as dag-pb digest
    assert bytes_to_cid(b"\x01\x55\x12\x20" + digest) == (
        "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
    )
    v0 = "QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8u"
    assert bytes_to_cid(cid_to_bytes(v0)) == v0


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",  # base58 CIDv1: not canonical here
        "BAFKREICYSG23KIWV34EG2D7QWEIPXWOSDO2PY4LDV42NBAUGULUEN5V6AM",  # upper case
        "bafkrei!!",
        "Qm" + "0" * 44,  # '0' is not base58
        "bafyreih",  # dag-cbor / truncated
        make_cid("x")[:-2],
    ],
)
def test_bad_cid_strings_are_rejected(bad: str) -> None:
    with pytest.raises(CIDError):
        cid_to_bytes(bad)


def test_zero_digest_and_wrong_codec_are_rejected() -> None:
    with pytest.raises(CIDError, match="zero digest"):
        check_cid_bytes(b"\x12\x20" + bytes(32))
    with pytest.raises(CIDError, match="unsupported"):
        check_cid_bytes(b"\x01\x71\x12\x20" + b"\x01" * 32)


def test_commitment_rejects_bad_scores_and_salt() -> None:
    addr = "0x" + "11" * 20
    with pytest.raises(ConfigError, match="score #1"):
        vote_commitment(1, addr, 0, addr, [5, 10_001], bytes(32))
    with pytest.raises(ConfigError, match="salt must be 32 bytes"):
        vote_commitment(1, addr, 0, addr, [5], b"short")


def test_task_params_round_trip_through_the_contract(proto: Protocol) -> None:
    assert proto.admin.task_params == PARAMS
    assert proto.admin.token_address == proto.deployment.token


@pytest.mark.parametrize(
    ("field", "value"),
    [("committee_size", 0), ("committee_size", 17), ("quorum", 4), ("acceptance_threshold", 0),
     ("max_updates_per_round", MAX_UPDATES + 1), ("slash_bps", 10_001), ("submit_duration", 0),
     ("rounds", 0), ("client_reward_per_round", MAX_TASK_REWARD)],
)  # fmt: skip
def test_task_params_validation_names_the_field(field: str, value: int) -> None:
    kwargs = {f: getattr(PARAMS, f) for f in PARAMS.__dataclass_fields__}
    kwargs[field] = value
    with pytest.raises(ConfigError, match=field):
        TaskParams(**kwargs)
