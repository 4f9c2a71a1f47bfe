"""The Python client refuses bad input before sending anything, naming what was wrong."""

from __future__ import annotations

import pytest
from protocol_helpers import Protocol, make_cid

from flchain.chain.protocol import ProtocolClient
from flchain.exceptions import CIDError, ConfigError


def test_bad_arguments_raise_before_a_transaction(proto: Protocol) -> None:
    me = proto.as_(1)
    block = proto.transactor.block_number()
    with pytest.raises(ConfigError, match="num_samples must be positive"):
        me.submit_update(0, make_cid("x"), 0)
    with pytest.raises(CIDError, match="bad CID 'not-a-cid'"):
        me.submit_update(0, "not-a-cid", 5)
    with pytest.raises(ConfigError, match="commitment must be 32 bytes"):
        me.commit_votes(0, b"\x01" * 31)
    with pytest.raises(ConfigError, match="score #2"):
        me.reveal_votes(0, [1, 2, -3], bytes(32))
    with pytest.raises(CIDError):
        me.certify_aggregate(0, "Qm" + "x" * 10)
    assert proto.transactor.block_number() == block  # nothing was sent


def test_bad_contract_address(proto: Protocol) -> None:
    with pytest.raises(ConfigError, match="not a contract address"):
        ProtocolClient(proto.transactor, "0x1234", proto.address(0))
