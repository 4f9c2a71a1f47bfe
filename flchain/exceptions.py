"""Every error FLchain raises, rooted in :class:`FLchainError`.

Errors from web3, HTTP clients, safetensors and the like are translated into
these at the package boundary, so callers catch one hierarchy:

    FLchainError
    ├── ConfigError                 bad user input or configuration
    ├── ChainError                  anything from the chain layer
    │   ├── NodeUnavailableError    the RPC endpoint does not answer
    │   ├── RPCError                the node answered a JSON-RPC error
    │   ├── TransactionFailedError  a transaction was mined but failed, or an undecoded revert
    │   ├── ContractRevertError     a revert with a decoded custom error
    │   └── TestnetError            starting, stopping or finding a local node
    ├── StorageError                anything from a content store
    │   ├── CIDError                malformed CID, or a CID of an unsupported codec
    │   ├── ContentNotFoundError    no block for a CID (within the timeout)
    │   ├── IntegrityError          bytes do not hash to the CID they were fetched by
    │   ├── ObjectTooLargeError     an object over the caller's size limit
    │   └── CodecError              a model file that does not decode within limits
    │       ├── HeaderError         a safetensors header that is malformed or over a limit
    │       └── CompressedUpdateError  a compressed update that does not fit its task and model
    ├── LearningError               data, models, training and aggregation
    │   ├── DatasetError            a data set that cannot be loaded or split
    │   ├── AggregationError        updates that cannot be aggregated
    │   └── CompressionError        a compressed update that does not decode
    └── RunError                    running a task: clients, miners, the orchestrator
        └── RoundTimeoutError       the chain did not reach an awaited state in time

A local aggregate that differs from the certified one is not an exception: the
client logs it loudly and counts it in its exit status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FLchainError(Exception):
    """Root of every error FLchain raises on purpose."""


class ConfigError(FLchainError):
    """Bad user input or configuration; the message names what was wrong."""


# --- chain ---------------------------------------------------------------


class ChainError(FLchainError):
    """An error from the chain layer."""


class NodeUnavailableError(ChainError):
    """The RPC endpoint does not answer."""


class RPCError(ChainError):
    """The node answered a request with a JSON-RPC error (``code``, ``data`` kept)."""

    def __init__(self, message: str, *, code: int = 0, data: Any = None, method: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.data = data
        self.method = method


class TransactionFailedError(ChainError):
    """A transaction was rejected or mined with a failure status."""


class ContractRevertError(ChainError):
    """A contract call reverted with one of our custom errors.

    A sibling of :class:`TransactionFailedError`, not a subclass, so handlers of
    either do not depend on the order of ``except`` clauses. ``name`` is the
    Solidity error's name (compare it with
    :class:`flchain.chain.revert_names.RevertName`) and ``error_args`` its
    decoded arguments, in declaration order.
    """

    def __init__(self, name: str, args: Sequence[Any] = (), function: str = "") -> None:
        self.name = name
        self.error_args = tuple(args)
        self.function = function
        rendered = ", ".join(repr(a) for a in self.error_args)
        where = f" in {function}" if function else ""
        super().__init__(f"reverted{where}: {name}({rendered})")


class TestnetError(ChainError):
    """Starting, stopping or locating a local test node failed."""

    __test__ = False  # not a pytest test class


# --- storage -------------------------------------------------------------


class StorageError(FLchainError):
    """An error from a content store."""


class CIDError(StorageError):
    """A malformed CID, or one of a codec or hash this store does not serve."""


class ContentNotFoundError(StorageError):
    """No content for a CID (within the timeout)."""


class IntegrityError(StorageError):
    """Fetched bytes do not hash to the CID they were fetched by."""


class ObjectTooLargeError(StorageError):
    """An object is larger than the caller's limit."""


class StoreWriteError(StorageError):
    """The store could not write (disk full, permissions); nothing partial is left."""


class CodecError(StorageError):
    """A model file that is malformed, of the wrong architecture, or not finite."""


class HeaderError(CodecError):
    """A model file's header that is not strict JSON, or over a depth, size or number limit."""


class CompressedUpdateError(CodecError):
    """A compressed update file that does not fit its task's scheme, its global model or
    the limits of its scheme (the reason names which)."""


# --- learning ------------------------------------------------------------


class LearningError(FLchainError):
    """An error in data, models, training or aggregation."""


class DatasetError(LearningError):
    """A data set that cannot be loaded or partitioned as asked."""


class AggregationError(LearningError):
    """A set of updates that cannot be aggregated (empty, mismatched shapes, ...)."""


class CompressionError(LearningError):
    """A compressed model update that is malformed or of an unknown format."""


class AppError(LearningError):
    """A task's own code (a Flower app) that cannot be loaded, failed, or replied wrongly."""


class AppMismatchError(AppError):
    """A local copy of a task's app whose content is not the one the task certified."""


# --- running a task --------------------------------------------------------


class RunError(FLchainError):
    """An error while running a task: a client, a miner or the orchestrator."""


class RoundTimeoutError(RunError):
    """The chain did not reach an awaited state (phase, round, certification) in time."""
