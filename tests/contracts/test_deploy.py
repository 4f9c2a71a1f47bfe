"""Deployment: the Scoring library first, the protocol linked against it."""

from __future__ import annotations

import pytest
from protocol_helpers import Protocol

from flchain.chain.artifacts import load_artifact
from flchain.chain.deploy import link
from flchain.exceptions import ConfigError
from flchain.types import Address

LIBRARY = Address("0x" + "ab" * 20)


def test_link_writes_the_library_address_at_every_reference() -> None:
    artifact = load_artifact("FLProtocol")
    (spots,) = artifact["linkReferences"]["contracts/libraries/Scoring.sol"].values()
    assert "__$" in artifact["bytecode"]
    code = link(artifact, {"Scoring": LIBRARY})
    assert "__$" not in code and len(code) == len(artifact["bytecode"])
    for spot in spots:
        start = 2 + 2 * spot["start"]
        assert code[start : start + 40] == "ab" * 20


def test_link_names_a_missing_library() -> None:
    with pytest.raises(ConfigError, match="FLProtocol needs library Scoring"):
        link(load_artifact("FLProtocol"), {})


def test_the_protocol_is_linked_to_the_library_deployed_before_it(proto: Protocol) -> None:
    w3, block = proto.w3, proto.deployment.block
    (tx,) = w3.eth.get_block(block - 1)["transactions"]  # automine: the library's own block
    library = w3.eth.get_transaction_receipt(tx)["contractAddress"]  # type: ignore[arg-type]
    assert library is not None
    deployed = bytes(w3.eth.get_code(library)).hex()
    assert len(deployed) == len(load_artifact("Scoring")["deployedBytecode"]) - 2
    protocol_code = bytes(w3.eth.get_code(proto.deployment.protocol)).hex()
    assert library.lower().removeprefix("0x") in protocol_code
