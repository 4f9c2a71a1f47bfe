"""Collecting a task's history: per-round facts from the chain, the spec from the store.

The auditor needs no run directory and nobody's cooperation: an RPC URL and
the protocol's address (a :class:`~flchain.audit.source.Source`) give the whole
history through :func:`flchain.chain.history.read_history` (typed per-round
records of submissions, committee, commitments, reveals, outcomes, rewards,
slashes, attestations and gas); the task spec and every model come from the
content store by the CIDs on chain.
"""

from __future__ import annotations

from flchain.audit.source import Source, resolve_source
from flchain.chain.history import ProtocolHistory
from flchain.exceptions import ConfigError, FLchainError, NodeUnavailableError
from flchain.storage.base import ContentStore
from flchain.task.spec import TaskSpec
from flchain.types import ArrayPair

SPEC_MAX_BYTES = 1 << 20

__all__ = ["ArrayPair", "Source", "load_history", "load_spec", "load_test_data", "resolve_source"]


def load_history(source: Source) -> ProtocolHistory:
    """Connect to the node and read the task's history and state.

    Raises :class:`NodeUnavailableError` naming the URL, where it came from and
    what to do, when the node does not answer.
    """
    from flchain.chain.connection import connect
    from flchain.chain.history import read_history

    try:
        w3 = connect(source.rpc_url)
    except NodeUnavailableError as exc:
        hint = f"; {source.hint}" if source.hint else ""
        raise NodeUnavailableError(
            f"the node at {source.rpc_url} ({source.origin}) is not reachable{hint} ({exc})"
        ) from exc
    return read_history(w3, source.protocol, from_block=source.from_block)


def load_spec(store: ContentStore, spec_cid: str) -> TaskSpec:
    """The task spec, fetched (and verified) by its on-chain CID."""
    try:
        return TaskSpec.from_json(store.get(spec_cid, max_size=SPEC_MAX_BYTES))
    except FLchainError as exc:
        raise ConfigError(f"cannot load the task spec {spec_cid}: {exc}") from exc


def load_test_data(name: str) -> ArrayPair:
    """Held-out test data: a built-in data set's test split (generated sets through the
    on-disk cache the parties share), or an ``.npz`` file's."""
    from flchain.learning.data import cached_dataset, load_dataset

    is_file = name.endswith(".npz")
    dataset = load_dataset("npz", path=name) if is_file else cached_dataset(name)
    return dataset.x_test, dataset.y_test
