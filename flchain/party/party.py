"""Joining a task: what a client or miner sets up before its first round.

A party knows only the testnet file, the task address, its index and its
store. From the chain it reads the task parameters; from the store, by the
on-chain CIDs, the task spec and the initial model. Its account is derived
from the testnet mnemonic (see :mod:`flchain.task.accounts`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flchain.chain import Transactor, connect
from flchain.chain.accounts import account_from_mnemonic
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import TaskParams
from flchain.chain.testnet import TestnetInfo
from flchain.exceptions import ConfigError, FLchainError, RoundTimeoutError, StorageError
from flchain.party.port import ChainPort, NodePort
from flchain.party.roundlog import EventLog
from flchain.storage.base import ContentStore
from flchain.task.spec import TaskSpec
from flchain.types import Address

__all__ = ["Party", "TestnetInfo", "join_task"]

T = TypeVar("T")
POLL_S = {"embedded": 0.25}
"""How often a waiting party polls the chain, by backend (default 50 ms): the embedded
py-evm node serves one request at a time."""
DEFAULT_POLL_S = 0.05


@dataclass
class Party:
    """One client or miner joined to a task, talking to the chain through a :class:`ChainPort`.

    Writes are sent once: the transactor under :class:`NodePort` already retries a
    send that a fresh nonce or fee fixes, and a revert is an answer, not a fault.
    """

    protocol: ChainPort
    store: ContentStore
    params: TaskParams
    spec: TaskSpec
    private_key: bytes
    log: EventLog
    poll_s: float = DEFAULT_POLL_S
    clock: Callable[[], float] = time.time
    """What a phase deadline is compared with (the in-memory chain's own clock in tests)."""

    @property
    def address(self) -> Address:
        return self.protocol.account

    @property
    def task(self) -> str:
        return str(self.protocol.task)

    @property
    def chain_id(self) -> int:
        return self.protocol.chain_id

    def nudge(self) -> None:
        """Mine an empty block, so time-based phase ends become visible.

        On a development node that mines only on transactions (Anvil's
        automine), views see the time of the last block; a party waiting past
        a deadline asks for one more block.
        """
        try:
            self.protocol.mine_block()
        except FLchainError as exc:
            self.log.warning("cannot mine an empty block: %s", exc)

    def wait_for(
        self,
        what: str,
        probe: Callable[[], T | None],
        timeout: float,
        deadline: Callable[[], float | None] = lambda: None,
    ) -> T:
        """Poll ``probe`` until it returns a value; nudge the chain past ``deadline()``."""
        start = time.monotonic()
        last_nudge = 0.0
        while True:
            value = probe()
            if value is not None:
                return value
            now = time.monotonic()
            if now - start > timeout:
                raise RoundTimeoutError(f"timed out after {timeout:g} s waiting for {what}")
            due = deadline()
            if due is not None and self.clock() >= due and now - last_nudge > 0.5:
                self.nudge()
                last_nudge = now
            time.sleep(self.poll_s)


def join_task(
    testnet: TestnetInfo,
    task: str | None,
    account_index: int,
    store: ContentStore,
    log: EventLog,
    port: Callable[[ProtocolClient], ChainPort] = NodePort,
) -> Party:
    """Connect, derive the account, read the task parameters and spec; ``port`` wraps the
    account's :class:`ProtocolClient` (a pool's clients share their settled reads)."""
    address = task or testnet.protocol
    if not address:
        raise ConfigError("no task address: pass --task or use a testnet file with a deployment")
    transactor = Transactor(connect(testnet.rpc_url))
    account = account_from_mnemonic(testnet.mnemonic, account_index)
    me = transactor.add_account(account)
    protocol = port(ProtocolClient(transactor, address, me, from_block=testnet.deployment_block))
    params = protocol.task_params
    try:
        raw = store.get(params.spec_cid, max_size=1 << 20)
    except StorageError as exc:
        raise ConfigError(
            f"cannot read the task spec {params.spec_cid} of task {address} from the store "
            f"(is this a task created by `flchain run`, and the same store?): {exc}"
        ) from exc
    spec = TaskSpec.from_json(raw)
    poll_s = POLL_S.get(testnet.backend, DEFAULT_POLL_S)
    return Party(protocol, store, params, spec, bytes(account.key), log, poll_s)
