"""Re-deriving every committee draw of ``FLProtocol`` off chain.

The contract's seeds use no block data: round 0's seed is fixed at deployment,
and each later seed folds in the salts the previous committee revealed::

    seed(0)     = keccak256(abi.encode(chainid, protocol, TaskParams))
    seed(r + 1) = keccak256(abi.encodePacked(seed(r), uint256 r, bytes32 salt_s...))

with ``salt_s`` the salts of the members of round r's committee who revealed,
in seat order. :func:`draw_committee` repeats the reputation-weighted draw from
a seed, so an auditor recomputes every committee from the task and the reveals.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from eth_abi.abi import encode
from eth_utils.abi import collapse_if_tuple
from eth_utils.crypto import keccak
from web3 import Web3

from flchain.chain.deploy import protocol_abi
from flchain.chain.history_types import RoundRecord
from flchain.chain.protocol_types import TaskParams
from flchain.exceptions import ConfigError
from flchain.types import Address


@cache
def _task_params_type() -> str:
    """The ABI type of ``TaskParams`` (the constructor's first argument), e.g. ``(bytes,...)``."""
    ctor = next(e for e in protocol_abi().abi if e.get("type") == "constructor")
    return str(collapse_if_tuple(dict(ctor["inputs"][0])))


def initial_seed(chain_id: int, protocol: str, params: TaskParams) -> bytes:
    """Round 0's seed: ``keccak256(abi.encode(chainid, protocol, params))``."""
    payload = encode(
        ["uint256", "address", _task_params_type()], [chain_id, protocol, params.to_abi()]
    )
    return bytes(keccak(payload))


def next_seed(seed: bytes, round_id: int, salts: Sequence[bytes]) -> bytes:
    """The seed of round ``round_id + 1`` from round ``round_id``'s and its revealed salts."""
    if len(seed) != 32 or any(len(s) != 32 for s in salts):
        raise ConfigError("seeds and salts are 32 bytes each")
    return bytes(keccak(seed + round_id.to_bytes(32, "big") + b"".join(salts)))


def revealed_salts(record: RoundRecord) -> list[bytes]:
    """The salts revealed in ``record``'s round, in the revealers' seat order."""
    seat = {member: s for s, member in enumerate(record.committee)}
    found = sorted((seat[v.miner], v.salt) for v in record.reveals if v.miner in seat)
    return [salt for _, salt in found]


def expected_seeds(
    chain_id: int, protocol: str, params: TaskParams, records: Sequence[RoundRecord]
) -> None:
    """Set each record's ``expected_seed``, chaining from round 0 (records in round order)."""
    seed = initial_seed(chain_id, protocol, params)
    for expected_round, rec in enumerate(records):
        if rec.round != expected_round:
            return  # a gap (history read from a later block): later seeds are not derivable
        rec.expected_seed = seed
        seed = next_seed(seed, rec.round, revealed_salts(rec))


def draw_committee(
    seed: bytes, pool: Sequence[str], weights: Sequence[int], size: int
) -> tuple[Address, ...]:
    """``FLCommittee._drawCommittee``: reputation-weighted sampling without replacement.

    ``pool`` is the active miners in the contract's order, ``weights`` their
    reputations when the round opened, ``size`` the task's committee size.
    """
    if len(pool) != len(weights):
        raise ConfigError("pool and weights differ in length")
    left = [int(w) for w in weights]
    total = sum(left)
    members: list[Address] = []
    for j in range(min(size, len(pool))):
        if total <= 0:
            break
        x = int.from_bytes(keccak(seed + j.to_bytes(32, "big")), "big") % total
        i = 0
        while x >= left[i]:
            x -= left[i]
            i += 1
        members.append(Address(Web3.to_checksum_address(pool[i])))
        total -= left[i]
        left[i] = 0
    return tuple(members)
