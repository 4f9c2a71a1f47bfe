"""Many clients in one process: ``flchain client-pool --indices 0-99``.

Each client of a pool is a whole party, as in its own ``flchain client``
process: its own account (and so nonce and bond), chain connection, store
handle, data partition, model copy, strategy state and event log
(``logs/client-<i>.jsonl``), and it runs the same round loop in its own thread.
What the pool shares is what is the same for all of them: the interpreter, one
import of torch and the model code, the task's data split, and

* the decoded updates of a round, by CID (:class:`SharedUpdates`): the bytes
  behind a CID are the same for every reader, so one read-only copy serves
  every client instead of one copy each;
* ``compute_slots`` threads on which the clients train and aggregate, so a
  round's work runs a few at a time instead of all at once, and torch's
  per-thread state exists on those threads only (each client's own thread
  only waits: on the chain, the store, its turn);
* its view of the chain (:class:`~flchain.party.sharedport.PooledPort`): a
  round's phase read once per 0.2 s for all its clients, what a round settled
  (accepted updates, certified CID) read once, one empty block mined past a
  deadline for all, and a few transactions in flight at a time, so that the
  node's load does not grow with the number of clients waiting on it.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from flchain.app.module import ModuleProgram
from flchain.app.program import TaskProgram
from flchain.exceptions import ConfigError, FLchainError
from flchain.party.behaviours import Role
from flchain.party.child import prepare_process
from flchain.party.memo import AggregateMemo
from flchain.party.participant import Participant, drive
from flchain.party.party import Party, TestnetInfo, join_task
from flchain.party.roundlog import EventLog
from flchain.party.sharedport import SHARED_MAX_AGE_S, PooledPort, SharedReads
from flchain.party.workload import Workload, load_workload
from flchain.storage.factory import open_store
from flchain.task.accounts import client_account
from flchain.types import Weights

MAX_POOL_SIZE = 4096
"""The most clients one pool hosts (a bound on ``--indices``)."""

ParticipantFactory = Callable[[Party, Workload, int, str], Participant]


class SharedUpdates(MutableMapping[str, Weights]):
    """Decoded weights by CID, shared by a pool's clients; read-only, at most ``capacity``.

    A client's end-of-round ``clear()`` keeps the entries (the others may still
    be reading them); the oldest entries go when ``capacity`` is exceeded, and a
    client that needs an evicted one again simply fetches it again.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[str, Weights] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, cid: str) -> Weights:
        with self._lock:
            return self._items[cid]

    def __setitem__(self, cid: str, weights: Weights) -> None:
        for array in weights.values():
            array.flags.writeable = False
        with self._lock:
            self._items[cid] = weights
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __delitem__(self, cid: str) -> None:
        with self._lock:
            del self._items[cid]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Keep everything: another client of the pool may be in the middle of its round."""


def parse_indices(text: str) -> list[int]:
    """``"0-3,7"`` → ``[0, 1, 2, 3, 7]``: distinct, non-negative, at most :data:`MAX_POOL_SIZE`."""
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        first, sep, last = part.partition("-")
        try:
            lo, hi = int(first), int(last if sep else first)
        except ValueError:
            raise ConfigError(f"client indices {text!r}: {part!r} is not N or N-M") from None
        if lo < 0 or hi < lo or len(out) + hi - lo + 1 > MAX_POOL_SIZE:
            raise ConfigError(
                f"client indices {text!r}: {part!r} must be N-M with 0 <= N <= M, "
                f"at most {MAX_POOL_SIZE} in all"
            )
        out.extend(range(lo, hi + 1))
    if len(set(out)) != len(out):
        raise ConfigError(f"client indices {text!r} name a client twice")
    return out


def resident_mb() -> float:
    """This process' resident memory now, in MiB (Linux ``/proc``; 0 where there is none)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _own_program(program: TaskProgram) -> TaskProgram:
    """A member's program: a module's with a model of its own (data shared), so members
    can train on different compute slots at once; an app's, shared (one slot)."""
    if isinstance(program, ModuleProgram):
        return program.with_own_model()
    return program


def _parallel(program: TaskProgram) -> bool:
    """Whether copies of ``program`` may train on several threads at once."""
    return isinstance(program, ModuleProgram) and program.parallel


def _allow_open_files(needed: int) -> None:
    """Raise the soft limit on open files (two logs per client) as far as the hard one allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        limit = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


class ClientPool:
    """The clients of one process: joined one by one, then run side by side in threads."""

    def __init__(
        self,
        make: ParticipantFactory,
        compute_slots: int = 1,
        app_dir: Path | None = None,
        task_module: str | None = None,
    ) -> None:
        if compute_slots < 1:
            raise ConfigError(f"a pool needs at least one compute slot, got {compute_slots}")
        self.make = make
        self.compute_slots = compute_slots
        self.app_dir = app_dir
        self.task_module = task_module
        self.workers = ThreadPoolExecutor(compute_slots, thread_name_prefix="compute")
        self.workload: Workload | None = None
        self.updates: SharedUpdates | None = None
        self.aggregates = AggregateMemo()
        self.shared = SharedReads()
        self.members: list[Participant] = []
        self.status: dict[int, int] = {}
        """Exit status of each client: 0 done, 1 failures found, 2 stopped by an error."""

    def join(
        self,
        index: int,
        behaviour: str,
        info: TestnetInfo,
        task: str | None,
        store_dir: str | None,
        kubo_url: str | None,
        log_dir: Path | None,
    ) -> None:
        """Join client ``index`` to the task as a member of this pool."""
        log = EventLog(log_dir, Role.CLIENT, index)
        store = open_store(store_dir, kubo_url)
        shared = self.shared
        party = join_task(
            info, task, client_account(index), store, log, lambda pc: PooledPort(pc, shared)
        )
        if not 0 <= index < party.spec.clients:
            raise ConfigError(
                f"client index {index} is not in this task (it has {party.spec.clients} clients)"
            )
        if self.workload is None:
            workload = load_workload(party.spec, app_dir=self.app_dir, task_module=self.task_module)
            if not _parallel(workload.program) and self.compute_slots > 1:
                raise ConfigError(
                    "a pool running an app or a module's own train/evaluate trains on one "
                    "compute slot (their calls seed the process-wide random generators), "
                    f"not {self.compute_slots}"
                )
            workload.program.warm_up(workload.program.partitions.client(index))
            self.workload = workload
            self.updates = SharedUpdates(party.spec.clients + 8)
        assert self.updates is not None
        own = replace(self.workload, program=_own_program(self.workload.program))
        party.poll_s = max(party.poll_s, SHARED_MAX_AGE_S)
        member = self.make(party, own, index, behaviour)
        member.cache = self.updates
        member.aggregates = self.aggregates
        member.workers = self.workers
        self.members.append(member)
        log.emit(
            "started",
            round=-1,
            address=party.address,
            task=party.task,
            pool=os.getpid(),
            pool_rss_mb=round(resident_mb(), 1),
        )

    def run(self) -> int:
        """Run every member to the end in its own thread; the worst exit status."""
        threads = [
            threading.Thread(target=self._run_one, args=(m,), name=f"client-{m.index}", daemon=True)
            for m in self.members
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.workers.shutdown()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for member in self.members:
            member.log.emit("pool_done", pool=os.getpid(), pool_peak_rss_mb=round(peak, 1))
        return max(self.status.values(), default=0)

    def _run_one(self, member: Participant) -> None:
        try:
            self.status[member.index] = drive(member)
        except FLchainError:
            self.status[member.index] = 2  # drive logged it
        except Exception as exc:  # a bug in one client must not stop the others
            member.log.logger.exception("client %d crashed", member.index)
            member.log.emit("failed", error=f"{type(exc).__name__}: {exc}")
            self.status[member.index] = 2


def run_pool(
    make: ParticipantFactory,
    indices: Sequence[int],
    behaviours: Sequence[str],
    testnet: Path,
    task: str | None,
    store_dir: str | None,
    kubo_url: str | None,
    log_dir: Path | None,
    compute_slots: int = 1,
    app_dir: Path | None = None,
    task_module: str | None = None,
) -> int:
    """Join every client of ``indices``, then run them all; the worst exit status."""
    prepare_process("%(asctime)s %(threadName)s %(levelname)s %(message)s")
    try:
        if len(behaviours) != len(indices):
            raise ConfigError(f"{len(behaviours)} behaviours for {len(indices)} clients")
        info = TestnetInfo.load(testnet)
        pool = ClientPool(make, compute_slots, app_dir, task_module)
    except FLchainError as exc:
        print(f"client pool: {exc}", file=sys.stderr)
        return 2
    _allow_open_files(2 * len(indices) + 256)
    for index, behaviour in zip(indices, behaviours, strict=True):
        try:
            pool.join(index, behaviour, info, task, store_dir, kubo_url, log_dir)
        except FLchainError as exc:
            print(f"client {index}: {exc}", file=sys.stderr)
            pool.status[index] = 2
    return pool.run()
