"""Deploying a task: one transaction deploys the ``Scoring`` library, one creates the protocol
(linked against it), which creates its reward token; then ``prepareSlots`` makes the round's
update slots ready, a page per transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from web3 import Web3

from flchain.chain.abicodec import ContractABI
from flchain.chain.artifacts import load_artifact
from flchain.chain.protocol_types import Deployment, TaskParams
from flchain.chain.transactor import Transactor
from flchain.exceptions import ConfigError, TransactionFailedError
from flchain.types import Address
from flchain.units import TOKEN_SYMBOL


def protocol_abi() -> ContractABI:
    """The ABI of ``FLProtocol``."""
    return ContractABI(load_artifact("FLProtocol")["abi"])


def token_abi() -> ContractABI:
    """The ABI of ``FLToken``."""
    return ContractABI(load_artifact("FLToken")["abi"])


def _deploy(transactor: Transactor, deployer: Address, data: bytes) -> tuple[Address, int]:
    receipt = transactor.transact(deployer, None, data)
    address = receipt.get("contractAddress")
    if not address:
        raise TransactionFailedError(f"deployment {receipt['transactionHash']!r} created nothing")
    return Address(Web3.to_checksum_address(address)), int(receipt["blockNumber"])


def link(artifact: Mapping[str, Any], libraries: Mapping[str, Address]) -> str:
    """``artifact``'s creation code with every library placeholder replaced by the address of
    that library in ``libraries`` (by name)."""
    code = str(artifact["bytecode"])
    for names in artifact.get("linkReferences", {}).values():
        for name, spots in names.items():
            if name not in libraries:
                raise ConfigError(f"{artifact['contractName']} needs library {name}: not deployed")
            address = libraries[name].removeprefix("0x").lower()
            for spot in spots:
                start = 2 + 2 * int(spot["start"])
                code = code[:start] + address + code[start + 2 * int(spot["length"]) :]
    return code


def linked_protocol(transactor: Transactor, deployer: Address) -> str:
    """Deploy the libraries ``FLProtocol`` links against; its creation code, linked to them."""
    artifact = load_artifact("FLProtocol")
    libraries: dict[str, Address] = {}
    for names in artifact.get("linkReferences", {}).values():
        for name in names:
            libraries[name], _ = _deploy(
                transactor,
                deployer,
                bytes.fromhex(str(load_artifact(name)["bytecode"]).removeprefix("0x")),
            )
    return link(artifact, libraries)


def prepare_slots(transactor: Transactor, admin: Address, protocol: Address) -> int:
    """Call ``prepareSlots`` until every update slot is ready; the number of calls."""
    abi = protocol_abi()
    calls = 0
    while True:
        raw = transactor.call(protocol, abi.encode_call("slotsPrepared"))
        prepared, total = abi.decode_result("slotsPrepared", raw)
        if prepared >= total:
            return calls
        transactor.transact(admin, protocol, abi.encode_call("prepareSlots"))
        calls += 1


def deploy_protocol(
    transactor: Transactor,
    deployer: Address,
    params: TaskParams,
    *,
    token_name: str = "FLchain Reward",
    token_symbol: str = TOKEN_SYMBOL,
) -> Deployment:
    """Deploy ``FLProtocol`` from ``deployer`` (its library first; it creates ``FLToken`` and
    is its only minter) and prepare its update slots (``ceil(max_updates_per_round /
    PREPARE_PAGE)`` transactions)."""
    protocol = protocol_abi()
    transactor.register_errors(token_abi().abi)
    transactor.register_errors(protocol.abi)
    code = linked_protocol(transactor, deployer)
    data = protocol.encode_deploy(code, params.to_abi(), token_name, token_symbol)
    protocol_address, block = _deploy(transactor, deployer, data)
    prepare_slots(transactor, deployer, protocol_address)
    raw = transactor.call(protocol_address, protocol.encode_call("token"))
    token_address = Address(Web3.to_checksum_address(protocol.decode_result("token", raw)[0]))
    return Deployment(
        protocol=protocol_address,
        token=token_address,
        block=block,
        chain_id=transactor.chain_id,
        deployer=deployer,
    )
