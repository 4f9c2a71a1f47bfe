"""Content-addressed storage for model weights, with CIDs identical to Kubo's.

This is the only package that knows about IPFS: CIDs, UnixFS DAGs, CAR files
and the Kubo RPC. Everything else talks to a :class:`ContentStore` obtained
from :func:`open_store` and passes CIDs around as plain strings.
"""

from __future__ import annotations

from flchain.storage.base import ContentStore, ObjectStat
from flchain.storage.builder import compute_cid, compute_file_cid
from flchain.storage.cid import CID
from flchain.storage.factory import DEFAULT_STORE_DIR, open_store
from flchain.storage.local import GCResult, LocalStore

__all__ = [
    "CID",
    "DEFAULT_STORE_DIR",
    "ContentStore",
    "GCResult",
    "LocalStore",
    "ObjectStat",
    "compute_cid",
    "compute_file_cid",
    "open_store",
]
