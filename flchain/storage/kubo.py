"""``KuboStore``: a Kubo node's RPC API (``/api/v0``) behind the ContentStore interface.

Adds use the flags that make Kubo build exactly our DAG (``--cid-version``,
``--raw-leaves``, ``--chunker=size-262144``), and the CID Kubo answers with
must equal the one we compute. Reads are verified like any store's: ``get``
recomputes the CID of what ``/cat`` returned, streamed reads and CAR export
re-hash every block.

Transport failures, timeouts and 502/503/504 answers are retried a bounded
number of times with exponential backoff; Kubo's own errors (HTTP 500 with a
JSON ``Message``) are translated at once: "not found" and deadline errors
become :class:`ContentNotFoundError`, the rest :class:`StorageError`.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from flchain.exceptions import (
    ContentNotFoundError,
    IntegrityError,
    StorageError,
)
from flchain.storage.base import MAX_BLOCK_SIZE, ContentStore, _too_large, stat_root
from flchain.storage.builder import CHUNK_SIZE, check_version, compute_cid, compute_file_cid
from flchain.storage.car import read_car, write_car
from flchain.storage.cid import CID, RAW, as_cid
from flchain.storage.dagpb import decode_file_node
from flchain.types import CIDStr

_RETRY_STATUS = (502, 503, 504)
_NOT_FOUND_HINTS = ("not found", "deadline exceeded", "no link named")


class KuboStore(ContentStore):
    """Talk to a Kubo node at ``url`` (for example ``http://127.0.0.1:5001``)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = max(1, retries)
        self.backoff = backoff
        self._client = httpx.Client(
            base_url=self.url + "/api/v0",
            timeout=httpx.Timeout(timeout * 1.25 + 0.5, connect=min(timeout, 5.0)),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"KuboStore({self.url!r})"

    def close(self) -> None:
        self._client.close()

    # --- transport ---------------------------------------------------------

    def _request(
        self, endpoint: str, params: dict[str, Any], files: Any = None, stream: bool = False
    ) -> httpx.Response:
        """POST with bounded retries; return a 200 response (streamed if asked).

        Without ``stream`` the body is read inside the attempt, so a truncated
        body (a transport error) is retried like a refused connection.
        """
        params = {**params, "timeout": f"{self.timeout:g}s"}
        last: Exception | None = None
        for attempt in range(self.retries):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
                for f in _file_objects(files):
                    f.seek(0)
            try:
                request = self._client.build_request("POST", endpoint, params=params, files=files)
                response = self._client.send(request, stream=stream)
            except httpx.TransportError as exc:
                last = exc
                continue
            if response.status_code == 200:
                return response
            body = response.read()
            response.close()
            if response.status_code in _RETRY_STATUS:
                last = StorageError(f"Kubo {endpoint} answered HTTP {response.status_code}")
                continue
            raise _kubo_error(endpoint, response.status_code, body)
        raise StorageError(
            f"Kubo at {self.url} failed {endpoint} after {self.retries} attempts: {last}"
        ) from last

    def _call(self, endpoint: str, params: dict[str, Any], files: Any = None) -> bytes:
        """A whole answer; a body cut short fails the attempt and is retried."""
        return self._request(endpoint, params, files).content

    def _json(self, endpoint: str, params: dict[str, Any], files: Any = None) -> Any:
        body = self._call(endpoint, params, files)
        lines = [line for line in body.splitlines() if line.strip()]
        try:
            return json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError as exc:
            raise StorageError(f"Kubo {endpoint} answered non-JSON: {body[:80]!r}") from exc

    # --- blocks --------------------------------------------------------------

    def get_block(self, cid: CID) -> bytes:
        block = self._call("/block/get", {"arg": cid.encode()})
        if len(block) > MAX_BLOCK_SIZE or not cid.verify(block):
            raise IntegrityError(f"Kubo returned a block that does not hash to {cid}")
        return block

    def put_block(self, cid: CID, block: bytes | memoryview) -> None:
        if not cid.verify(block):
            raise IntegrityError(f"block does not hash to {cid}")
        codec = "raw" if cid.codec == RAW else "dag-pb"
        params = {"cid-codec": codec, "mhtype": "sha2-256", "pin": "false"}
        answer = self._json("/block/put", params, files={"data": ("block", bytes(block))})
        got = CID.parse(str(answer.get("Key", "")))
        if got.digest != cid.digest:
            raise IntegrityError(f"Kubo stored the block as {got}, expected {cid}")

    def has_block(self, cid: CID) -> bool:
        try:
            self._json("/block/stat", {"arg": cid.encode(), "offline": "true"})
        except ContentNotFoundError:
            return False
        return True

    # --- files ---------------------------------------------------------------

    def _add(self, files: Any, expected: CID, cid_version: int, pin: bool) -> CIDStr:
        params = {
            "cid-version": str(cid_version),
            "raw-leaves": "true" if cid_version == 1 else "false",
            "chunker": f"size-{CHUNK_SIZE}",
            "pin": "true" if pin else "false",
            "quieter": "true",
        }
        answer = self._json("/add", params, files=files)
        got = str(answer.get("Hash", ""))
        if got != expected.encode():
            raise IntegrityError(f"Kubo named the file {got!r}, expected {expected}")
        return expected.encode()

    def put(self, data: bytes | memoryview, *, cid_version: int = 1, pin: bool = True) -> CIDStr:
        expected = compute_cid(data, check_version(cid_version))
        return self._add({"file": ("file", bytes(data))}, expected, cid_version, pin)

    def put_file(self, path: str | Path, *, cid_version: int = 1, pin: bool = True) -> CIDStr:
        try:
            expected = compute_file_cid(path, check_version(cid_version))
            with open(path, "rb") as f:
                return self._add({"file": ("file", f)}, expected, cid_version, pin)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc}") from exc

    def get(self, cid: str | CID, *, max_size: int | None = None) -> bytes:
        """``/cat`` the file, then check it rebuilds to the same CID (Kubo's default layouts)."""
        root = as_cid(cid)
        block = self.get_block(root)
        size = stat_root(root, block).size
        if max_size is not None and size > max_size:
            raise _too_large(root, size, max_size)
        if root.codec == RAW:
            return block
        data = self._call("/cat", {"arg": root.encode()})
        if len(data) != size or compute_cid(data, root.version) != root:
            raise IntegrityError(f"content from Kubo does not rebuild to {root}")
        return data

    def pin(self, cid: str | CID) -> None:
        self._json("/pin/add", {"arg": as_cid(cid).encode()})

    def unpin(self, cid: str | CID) -> bool:
        try:
            self._json("/pin/rm", {"arg": as_cid(cid).encode()})
        except StorageError as exc:
            if "not pinned" in str(exc):
                return False
            raise
        return True

    def pins(self) -> list[CIDStr]:
        keys = self._json("/pin/ls", {"type": "recursive"}).get("Keys", {})
        return sorted(CID.parse(k).encode() for k in keys)

    # --- CAR -------------------------------------------------------------------

    def export_car(self, cids: Iterable[str | CID], out: BinaryIO) -> int:
        """``/dag/export`` each root; re-verify every block and that each DAG is complete."""
        roots = [as_cid(c) for c in cids]
        if not roots:
            raise StorageError("nothing to export: no CIDs given")
        count, _ = write_car(out, roots, self._exported_blocks(roots))
        return count

    def _exported_blocks(self, roots: list[CID]) -> Iterator[tuple[CID, bytes]]:
        for root in roots:
            with tempfile.TemporaryFile() as tmp:
                response = self._request("/dag/export", {"arg": root.encode()}, stream=True)
                try:
                    for piece in response.iter_bytes():
                        tmp.write(piece)
                except httpx.TransportError as exc:
                    raise StorageError(f"Kubo /dag/export of {root} was cut short: {exc}") from exc
                finally:
                    response.close()
                tmp.seek(0)
                _, blocks = read_car(tmp)
                needed, seen = {root.multihash}, set()
                for cid, block in blocks:
                    seen.add(cid.multihash)
                    if cid.codec != RAW:
                        needed.update(c.multihash for c in decode_file_node(block).links)
                    yield cid, block
                if not needed <= seen:
                    raise IntegrityError(f"Kubo's export of {root} is missing blocks")

    def import_car(self, src: BinaryIO, *, pin: bool = True) -> list[CIDStr]:
        """Verify every block locally, then ``/dag/import`` the CAR."""
        with tempfile.TemporaryFile() as tmp:
            roots, blocks = read_car(src)
            write_car(tmp, roots, blocks)
            tmp.seek(0)
            flag = "true" if pin else "false"
            body = self._call("/dag/import", {"pin-roots": flag}, files={"file": ("run.car", tmp)})
        for line in body.splitlines():
            try:
                problem = json.loads(line).get("Root", {}).get("PinErrorMsg", "")
            except (json.JSONDecodeError, AttributeError):
                continue
            if problem:
                raise StorageError(f"Kubo imported the CAR but could not pin a root: {problem}")
        return [r.encode() for r in roots]


def _file_objects(files: Any) -> list[Any]:
    if not isinstance(files, dict):
        return []
    return [v[1] for v in files.values() if isinstance(v, tuple) and hasattr(v[1], "seek")]


def _kubo_error(endpoint: str, status: int, body: bytes) -> StorageError:
    try:
        message = str(json.loads(body).get("Message", ""))
    except (json.JSONDecodeError, AttributeError):
        message = body[:200].decode("utf-8", "replace")
    text = f"Kubo {endpoint} failed (HTTP {status}): {message or 'no message'}"
    if status == 500 and any(hint in message.lower() for hint in _NOT_FOUND_HINTS):
        return ContentNotFoundError(text)
    return StorageError(text)
