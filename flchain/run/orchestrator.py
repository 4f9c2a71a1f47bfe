"""``flchain run``: one task, N clients and M miners, on a local chain.

    ensure the testnet → pin spec + initial model, deploy the task → spawn the
    miners and clients → wait until all are registered → open round 0 →
    follow the rounds (live table) → write metrics.jsonl and summary.json →
    stop the children (and the testnet, if this run started it)

The parties run on an engine (:mod:`flchain.run.engine`): local processes, or
Ray actors. A child that crashes is reported and the run goes on without it:
the protocol ends every phase by time. Ctrl-C stops every child.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from flchain.app.archive import app_cid, pack_app
from flchain.app.source import locate_task
from flchain.chain.accounts import account_from_mnemonic
from flchain.chain.protocol import ProtocolClient
from flchain.chain.protocol_types import MemberStatus
from flchain.exceptions import ConfigError, RoundTimeoutError, RunError, StorageError
from flchain.party.behaviours import HONEST, assign_client_behaviours
from flchain.party.workload import Workload, load_workload
from flchain.run import interrupts
from flchain.run.engine import Engine, EngineOptions, open_engine
from flchain.run.metrics import bytes_summary, decisions_changed, dp_summary, mismatches
from flchain.run.monitor import Monitor, RoundReport
from flchain.run.network import Network, ensure_testnet
from flchain.run.progress import Progress
from flchain.run.setup import Phases, Task, admin_transactor, create_task, start_training
from flchain.storage.factory import open_store
from flchain.task.accounts import client_account, miner_account
from flchain.task.spec import TaskSpec
from flchain.types import Address
from flchain.units import to_units

REGISTER_TIMEOUT_S = 300.0
"""How long registration may go without progress (one more party registered)."""
POOL_THRESHOLD = 16
"""Up to this many clients a run gives each its own process; past it, one pool per core."""


@dataclass
class RunOptions:
    """Everything ``flchain run`` was asked for."""

    spec: TaskSpec
    out: Path
    malicious: str = ""
    home: Path = Path(".flchain")
    store: Path | None = None  # default: <out>/store
    kubo: str | None = None
    backend: str | None = None
    node_config: Path | None = Path("ganache-config.json")
    phases: Phases = field(default_factory=Phases)
    miner_behaviours: dict[int, str] = field(default_factory=dict)  # test hook
    timeout_s: float = 1800.0
    client_procs: int | None = None  # None: one per client up to POOL_THRESHOLD, else per core
    app: Path | None = None
    """The Flower app the task runs (``spec.app`` is then its archive's CID)."""
    engine: EngineOptions = field(default_factory=EngineOptions)
    """Where the parties run: local processes, or Ray actors."""
    task: str | None = None
    """The task module the task runs: a path or a module name (``spec.task`` then names it
    and its archive's CID)."""
    on_started: Callable[[Engine, Task], None] | None = None  # test hook


@dataclass
class RunResult:
    """What a run produced."""

    reports: list[RoundReport]
    summary: dict[str, Any]
    out: Path


def run_task(options: RunOptions, console: Console | None = None) -> RunResult:
    """Run a whole task; see the module docstring."""
    console = console or Console()
    start = time.time()
    out = options.out.resolve()
    spec = options.spec
    behaviours = assign_client_behaviours(options.malicious, spec.clients, spec.seed)
    if any((out / "logs").glob("*.jsonl")) or (out / "summary.json").exists():
        raise ConfigError(f"run directory {out} already holds a run; choose another --out")
    if options.app is not None:
        app = options.app.resolve()
        options = replace(options, app=app)
        spec = replace(spec, app=app_cid(app))
    if options.task is not None:  # children get the module's file, wherever they start
        source = locate_task(options.task)
        options = replace(options, task=str(source.path))
        spec = replace(spec, task=source.spec())
    # checks the spec (and loads the app); fills the data set cache for children
    workload = load_workload(spec, app_dir=options.app, task_module=options.task)
    local = workload.program.local_data
    spec = spec.with_sample_cap([len(y) for _, y in local] if local is not None else [])
    options, workload = replace(options, spec=spec), replace(workload, spec=spec)
    options.engine.check()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    # a node this run starts funds the admin, the first miners and every client itself
    funded = client_account(spec.clients - 1) + 1
    network = ensure_testnet(options.home, options.node_config, options.backend, funded)
    try:
        with interrupts.catch_interrupts(), open_engine(options.engine, out / "logs") as children:
            return _run(options, network, children, console, start, out, workload, behaviours)
    finally:
        network.close()


def _run(
    options: RunOptions,
    network: Network,
    children: Engine,
    console: Console,
    start: float,
    out: Path,
    workload: Workload,
    behaviours: list[str],
) -> RunResult:
    spec = options.spec
    store_dir = (options.store or out / "store").resolve()
    store = open_store(None if options.kubo else store_dir, options.kubo)
    if options.app is not None:
        pinned = store.put(pack_app(options.app))
        if pinned != spec.app:
            raise RunError(f"the app archive was pinned as {pinned}, not {spec.app}")
    if options.task is not None:
        pinned = store.put(locate_task(options.task).archive())
        if pinned != spec.task.cid:
            raise RunError(f"the task module was pinned as {pinned}, not {spec.task.cid}")
    initial = workload.program.initial_weights()
    task = create_task(network.info, store, spec, options.phases, initial=initial)
    task.write(out / "task.json", node_stops_with_run=network.started_here)
    (out / "spec.json").write_bytes(spec.to_json())
    console.print(
        f"task [bold]{task.protocol}[/] on {network.info.rpc_url} ({network.backend}); "
        f"{spec.clients} clients, {spec.miners} miners, {spec.rounds} rounds; run dir {out}"
    )
    common = ["--testnet", str(network.path.resolve()), "--task", task.protocol]
    common += ["--kubo", options.kubo] if options.kubo else ["--store", str(store_dir)]
    common += ["--log-dir", str(out / "logs")]
    common += ["--app", str(options.app)] if options.app is not None else []
    common += ["--task-module", options.task] if options.task is not None else []
    for j in range(spec.miners):
        hidden = options.miner_behaviours.get(j, HONEST)
        children.spawn(f"miner-{j}", ["miner", "--index", str(j), "--behaviour", hidden, *common])
    if (banner := children.banner()) is not None:
        console.print(banner)
    hosts = _spawn_clients(children, behaviours, common, options.client_procs)
    viewer = _viewer(network, task)
    addresses = _addresses(network, spec)
    _wait_registered(viewer, addresses, children, console, hosts)
    startup_s = time.time() - start
    monitor = Monitor(viewer, store, workload, out / "logs", task.params.initial_model_cid)
    start_gas = start_training(network.info, task)
    monitor.start_clock()
    console.print(f"all {len(addresses)} parties registered after {startup_s:.1f} s; round 0 open")
    if options.on_started is not None:
        options.on_started(children, task)
    _follow(monitor, children, spec, options, console, out)
    children.wait_all(60.0)
    events = monitor.refresh_phases()
    _write_metrics(out, monitor.reports)
    summary = _summary(viewer, monitor, addresses, behaviours, children, start, startup_s, task)
    final_cid = next((r.certified_cid for r in reversed(monitor.reports) if r.certified_cid), None)
    # the backdoor trigger's success on the final model (a clean run's figure is the baseline)
    try:
        summary["attack_success_rate"] = monitor.backdoor_success(
            final_cid or task.params.initial_model_cid
        )
    except StorageError:  # the final model could not be pinned (a full store)
        summary["attack_success_rate"] = None
    if options.miner_behaviours:
        honest = {
            j for j in range(spec.miners) if options.miner_behaviours.get(j, HONEST) == HONEST
        }
        decided = {
            r.round: {u.index: u.accepted for u in r.outcome.updates}
            for r in monitor.reports
            if r.outcome is not None
        }
        threshold = task.params.acceptance_threshold
        summary["decisions_changed"] = decisions_changed(events, honest, decided, threshold)
        summary["miner_behaviours"] = {f"miner-{j}": b for j, b in options.miner_behaviours.items()}
    summary["start_training_gas"] = start_gas
    summary["aggregate_mismatches"] = [
        {k: e.get(k) for k in ("role", "index", "round", "local", "certified")}
        for e in mismatches(events)
    ]
    summary["app_cid"] = spec.app or None
    summary["task_module"] = asdict(spec.task) if spec.task.cid else None
    names = {a.lower(): n for n, a in addresses.items()}
    summary["dp"] = dp_summary(spec.dp, [r.dp_epsilon for r in monitor.reports], names)
    rows = [{a.lower(): b for a, b in r.bytes_pinned.items()} for r in monitor.reports]
    summary["bytes_pinned"] = bytes_summary(spec.compression, rows, names)
    summary["out"] = str(out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return RunResult(monitor.reports, summary, out)


def client_groups(clients: int, procs: int | None, cores: int | None = None) -> list[range]:
    """Which clients each client process hosts: contiguous, sizes differing by at most one
    (by default one per client up to :data:`POOL_THRESHOLD`, else one per core)."""
    if procs is None:
        procs = clients if clients <= POOL_THRESHOLD else cores or os.cpu_count() or 1
    if procs < 1:
        raise ConfigError(f"--client-procs must be at least 1, got {procs}")
    procs = min(procs, clients)
    bounds = [clients * k // procs for k in range(procs + 1)]
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


def _spawn_clients(
    children: Engine, behaviours: list[str], common: list[str], procs: int | None
) -> dict[str, list[str]]:
    """Start the client processes: ``flchain client`` for a group of one, else a pool.
    Returns the parties each child hosts, by child name."""
    hosts: dict[str, list[str]] = {}
    for group in client_groups(len(behaviours), procs, children.cores()):
        if len(group) == 1:
            i = group[0]
            args = ["client", "--index", str(i), "--behaviour", behaviours[i], *common]
            name = f"client-{i}"
        else:
            kinds = ",".join(behaviours[i] for i in group)
            indices = f"{group[0]}-{group[-1]}"
            args = ["client-pool", "--indices", indices, "--behaviours", kinds, *common]
            name = f"clients-{indices}"
        children.spawn(name, args)
        hosts[name] = [f"client-{i}" for i in group]
    return hosts


def _viewer(network: Network, task: Task) -> ProtocolClient:
    transactor, admin = admin_transactor(network.info)
    return ProtocolClient(transactor, task.protocol, admin, from_block=task.block)


def _addresses(network: Network, spec: TaskSpec) -> dict[str, Address]:
    mnemonic = network.info.mnemonic
    out = {
        f"miner-{j}": Address(account_from_mnemonic(mnemonic, miner_account(j)).address)
        for j in range(spec.miners)
    }
    for i in range(spec.clients):
        out[f"client-{i}"] = Address(account_from_mnemonic(mnemonic, client_account(i)).address)
    return out


def _wait_registered(
    viewer: ProtocolClient,
    addresses: dict[str, Address],
    children: Engine,
    console: Console,
    hosts: dict[str, list[str]],
) -> None:
    """Block until every live child is registered; a child that died is left out. Many
    parties starting on few cores take long: the timeout counts from the last progress."""
    deadline = time.monotonic() + REGISTER_TIMEOUT_S
    pending = dict(addresses)
    while pending:
        for name, address in list(pending.items()):
            if _status(viewer, name, address) == MemberStatus.ACTIVE:
                del pending[name]
                deadline = time.monotonic() + REGISTER_TIMEOUT_S
        for child in children.newly_exited():
            console.print(f"[red]{child.name} exited with {child.returncode}:[/] {child.tail()}")
            for name in hosts.get(child.name, [child.name]):
                pending.pop(name, None)
        if time.monotonic() > deadline:
            waiting = ", ".join(sorted(pending))
            raise RoundTimeoutError(
                f"no party registered for {REGISTER_TIMEOUT_S:.0f} s; waiting for: {waiting}"
            )
        interrupts.check()
        time.sleep(0.1)
    if not any(c.name.startswith("miner") for c in children.running()):
        raise RunError("no miner is running; see the logs in the run directory")


def _status(viewer: ProtocolClient, name: str, address: Address) -> MemberStatus:
    if name.startswith("miner"):
        return viewer.miner_state(address).status
    return viewer.client_state(address).status


def _follow(
    monitor: Monitor,
    children: Engine,
    spec: TaskSpec,
    options: RunOptions,
    console: Console,
    out: Path,
) -> None:
    deadline = time.monotonic() + options.timeout_s
    metrics = (out / "metrics.jsonl").open("w", encoding="utf-8")
    with metrics, Progress(console, spec, monitor.initial) as progress:
        while monitor.next_round < spec.rounds:
            for child in children.newly_exited():
                if child.returncode != 0:
                    progress.note(
                        f"[red]{child.name} exited with code {child.returncode}[/] {child.tail(1)}"
                    )
            for report in monitor.poll():
                metrics.write(json.dumps(report.to_json()) + "\n")
                metrics.flush()
                progress.add(report)
            if not children.running():
                progress.note("[red]every child has exited[/]")
                break
            if time.monotonic() > deadline:
                progress.note(f"[red]run timed out after {options.timeout_s:.0f} s[/]")
                break
            r, phase = monitor.status()
            progress.update(r, phase.name.lower(), len(children.running()))
            interrupts.check()
            time.sleep(0.2)


def _write_metrics(out: Path, reports: list[RoundReport]) -> None:
    lines = "".join(json.dumps(r.to_json()) + "\n" for r in reports)
    (out / "metrics.jsonl").write_text(lines, encoding="utf-8")


def _summary(
    viewer: ProtocolClient,
    monitor: Monitor,
    addresses: dict[str, Address],
    behaviours: list[str],
    children: Engine,
    start: float,
    startup_s: float,
    task: Task,
) -> dict[str, Any]:
    by_address = {addresses[f"client-{i}"]: b for i, b in enumerate(behaviours)}
    rejected: dict[str, int] = {}
    accepted: dict[str, int] = {}
    for report in monitor.reports:
        for update in report.outcome.updates if report.outcome else ():
            behaviour = by_address.get(update.client, "unknown")
            bucket = accepted if update.accepted else rejected
            bucket[behaviour] = bucket.get(behaviour, 0) + 1
    # claimed (minted) plus still claimable: a party that stopped before its claim still earned it
    rewards = {
        a: to_units(viewer.token_balance(a) + viewer.claimable(a)) for a in addresses.values()
    }
    states = {
        n: viewer.miner_state(a) if n.startswith("miner") else viewer.client_state(a)
        for n, a in addresses.items()
    }
    reputation = {addresses[n]: s.reputation for n, s in states.items()}
    bonds = {addresses[n]: to_units(s.bond) for n, s in states.items()}
    minimum = {"miner": task.params.miner_bond, "client": task.params.client_bond}
    slashed = sorted(n for n, s in states.items() if s.bond < minimum[n.split("-")[0]])
    last = monitor.reports[-1] if monitor.reports else None
    return {
        "final_accuracy": last.accuracy if last else monitor.initial[0],
        "final_loss": last.loss if last else monitor.initial[1],
        "initial_accuracy": monitor.initial[0],
        "initial_loss": monitor.initial[1],
        "rounds": len(monitor.reports),
        "rewards": rewards,
        "reputation": reputation,
        "bonds": bonds,
        "slashed": slashed,
        "rejected_by_behaviour": rejected,
        "accepted_by_behaviour": accepted,
        "parties": {
            n: {"address": a, "behaviour": by_address.get(a, HONEST)} for n, a in addresses.items()
        },
        "exit_codes": {c.name: c.returncode for c in children.children.values()},
        "engine": children.describe(),
        "certified": [r.certified_cid for r in monitor.reports],
        "wall_s": round(time.time() - start, 3),
        "startup_s": round(startup_s, 3),
        "task": task.to_json(),
    }
