"""Deploying a task: the reward token, the protocol, and the protocol's minter role."""

from __future__ import annotations

from eth_utils.crypto import keccak
from web3 import Web3

from flchain.chain.abicodec import ContractABI
from flchain.chain.artifacts import load_artifact
from flchain.chain.protocol_types import Deployment, TaskParams
from flchain.chain.transactor import Transactor
from flchain.exceptions import TransactionFailedError
from flchain.types import Address

MINTER_ROLE = keccak(text="MINTER_ROLE")


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


def deploy_protocol(
    transactor: Transactor,
    deployer: Address,
    params: TaskParams,
    *,
    token_name: str = "FLchain Reward",
    token_symbol: str = "FLR",
) -> Deployment:
    """Deploy ``FLToken`` and ``FLProtocol`` from ``deployer`` and let the protocol mint."""
    token_artifact = load_artifact("FLToken")
    protocol_artifact = load_artifact("FLProtocol")
    token = ContractABI(token_artifact["abi"])
    protocol = ContractABI(protocol_artifact["abi"])
    transactor.register_errors(token.abi)
    transactor.register_errors(protocol.abi)

    token_address, _ = _deploy(
        transactor,
        deployer,
        token.encode_deploy(token_artifact["bytecode"], token_name, token_symbol, deployer),
    )
    protocol_address, block = _deploy(
        transactor,
        deployer,
        protocol.encode_deploy(protocol_artifact["bytecode"], params.to_abi(), token_address),
    )
    transactor.transact(
        deployer, token_address, token.encode_call("grantRole", MINTER_ROLE, protocol_address)
    )
    return Deployment(
        protocol=protocol_address,
        token=token_address,
        block=block,
        chain_id=transactor.chain_id,
        deployer=deployer,
    )
