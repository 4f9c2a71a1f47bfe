"""Creating a task: pin the spec and the initial model, deploy a protocol instance.

The spec (canonical JSON) and the seeded initial model are pinned to the shared
store; their CIDs are the deployment's ``spec_cid`` and ``initial_model_cid``,
so every party can read them back from the chain alone. Account 0 deploys and
administers; every account of the task the node did not fund (clients past
its funded range, miners past the ninth) is funded from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flchain.app.builtin import initial_model
from flchain.chain import Transactor, TxRequest, connect
from flchain.chain.accounts import account_from_mnemonic
from flchain.chain.deploy import deploy_protocol
from flchain.chain.history import ZERO_ADDRESS
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import Deployment, TaskParams
from flchain.exceptions import ConfigError
from flchain.party.party import TestnetInfo
from flchain.storage.base import ContentStore
from flchain.storage.codec import ModelMeta, encode_weights
from flchain.task.accounts import ADMIN_ACCOUNT, task_accounts
from flchain.task.quality import ACCEPTANCE_THRESHOLD
from flchain.task.spec import TaskSpec
from flchain.types import Address, CIDStr, RoundId, Weights

FUNDING_WEI = 10**19
"""Ether each party the node did not fund receives from the admin (bonds plus gas)."""
ADMIN_RESERVE_WEI = 10**20
"""What the admin keeps for deployments and its own transactions after funding parties."""


@dataclass(frozen=True)
class Phases:
    """Upper bounds of each phase in seconds (phases end early once everyone acted)."""

    submit: int = 120
    commit: int = 60
    reveal: int = 30


@dataclass(frozen=True)
class Task:
    """A deployed task: where it lives and the parameters it was created with (the CIDs of
    its spec and initial model among them)."""

    protocol: Address
    token: Address
    block: int
    params: TaskParams
    rpc_url: str = ""
    """The node the task was deployed on (``flchain audit --run`` reads it from there)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "rpc_url": self.rpc_url,
            "protocol": self.protocol,
            "token": self.token,
            "deployment_block": self.block,
            "spec_cid": self.params.spec_cid,
            "initial_model_cid": self.params.initial_model_cid,
            "params": asdict(self.params),
        }

    def write(self, path: Path, *, node_stops_with_run: bool = False) -> None:
        """Write ``task.json``; ``node_stops_with_run`` records that the run started its
        node and stops it at the end (so an audit after the run needs another node)."""
        record = {**self.to_json(), "node_stops_with_run": node_stops_with_run}
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def task_params(
    spec: TaskSpec, spec_cid: CIDStr, initial_cid: CIDStr, phases: Phases
) -> TaskParams:
    """Protocol parameters for ``spec``: its committee (at most its miners), majority quorum,
    and an update slot per client drawn each round (every client when it does not sample)."""
    k = min(spec.committee, spec.miners)
    return TaskParams(
        initial_model_cid=initial_cid,
        spec_cid=spec_cid,
        rounds=spec.rounds,
        committee_size=k,
        quorum=k // 2 + 1,
        acceptance_threshold=ACCEPTANCE_THRESHOLD,
        submit_duration=phases.submit,
        commit_duration=phases.commit,
        reveal_duration=phases.reveal,
        max_updates_per_round=spec.clients_per_round or spec.clients,
        clients_per_round=spec.clients_per_round,
        sample_cap=spec.sample_cap or 2**32 - 1,  # 0: no absolute cap
    )


def pin_task_inputs(
    store: ContentStore, spec: TaskSpec, initial: Weights | None = None
) -> tuple[CIDStr, CIDStr]:
    """Pin the spec and the initial model (a built-in task's when not given); their CIDs."""
    if initial is None:
        if not spec.builtin:
            raise ConfigError(f"the task runs {spec.arch}: give its initial model")
        initial = initial_model(spec.arch, spec.seed)
    spec_cid = store.put(spec.to_json())
    meta = ModelMeta(RoundId(0), ZERO_ADDRESS, spec.arch, None)
    initial_cid = store.put(encode_weights(initial, meta))
    return spec_cid, initial_cid


def admin_transactor(info: TestnetInfo) -> tuple[Transactor, Address]:
    transactor = Transactor(connect(info.rpc_url))
    admin = transactor.add_account(account_from_mnemonic(info.mnemonic, ADMIN_ACCOUNT))
    return transactor, admin


def create_task(
    info: TestnetInfo,
    store: ContentStore,
    spec: TaskSpec,
    phases: Phases = Phases(),
    *,
    initial: Weights | None = None,
) -> Task:
    """Pin the task inputs, deploy a protocol instance for them, fund the parties."""
    spec_cid, initial_cid = pin_task_inputs(store, spec, initial)
    params = task_params(spec, spec_cid, initial_cid, phases)
    transactor, admin = admin_transactor(info)
    d: Deployment = deploy_protocol(transactor, admin, params)
    fund_accounts(transactor, admin, info, task_accounts(spec.clients, spec.miners))
    return Task(d.protocol, d.token, d.block, params, info.rpc_url)


def fund_accounts(
    transactor: Transactor, admin: Address, info: TestnetInfo, indices: Sequence[int]
) -> int:
    """Send ether to every account in ``indices`` the node did not fund; return how many.

    The transfers go out as one batch. An admin too poor to fund them all is a
    clear error before anything is sent (start the node with more accounts).
    """
    unfunded = sorted({i for i in indices if i >= info.funded_accounts})
    if not unfunded:
        return 0
    needed = len(unfunded) * FUNDING_WEI
    if transactor.balance(admin) < needed + ADMIN_RESERVE_WEI:
        raise ConfigError(
            f"the admin cannot fund {len(unfunded)} accounts ({needed / 10**18:.0f} ether); "
            f"the node funded {info.funded_accounts}: start it with more accounts"
        )
    requests = [
        TxRequest(
            admin,
            Address(account_from_mnemonic(info.mnemonic, index).address),
            b"",
            FUNDING_WEI,
            21_000,
        )
        for index in unfunded
    ]
    transactor.transact_many(requests, timeout=60.0 + len(requests) / 10)
    return len(unfunded)


def start_training(info: TestnetInfo, task: Task) -> int:
    """Open round 0 (admin); return the gas used."""
    transactor, admin = admin_transactor(info)
    receipt = ProtocolClient(transactor, task.protocol, admin).start_training()
    return int(receipt["gasUsed"])
