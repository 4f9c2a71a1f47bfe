"""KuboStore's error handling against a scripted HTTP server on 127.0.0.1.

The server is not Kubo: it answers each RPC endpoint from a script (good
blocks, wrong bytes, 500s, 503s, hangs, bodies cut short), so every failure
path of the client is exercised for real over sockets.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from flchain.exceptions import (
    CIDError,
    ContentNotFoundError,
    IntegrityError,
    ObjectTooLargeError,
    StorageError,
)
from flchain.storage import LocalStore, compute_cid
from flchain.storage.builder import CHUNK_SIZE
from flchain.storage.cid import CID
from flchain.storage.kubo import KuboStore


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    declared_length: int | None = None  # > len(body): the body is cut short
    delay: float = 0.0


Route = Callable[[dict[str, list[str]], bytes], Reply]


@dataclass
class Script:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    queries: list[dict[str, list[str]]] = field(default_factory=list)


def _kubo_error(message: str) -> Reply:
    return Reply(500, json.dumps({"Message": message, "Code": 0, "Type": "error"}).encode())


def _serve(script: Script) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            url = urlparse(self.path)
            endpoint = url.path.removeprefix("/api/v0")
            query = parse_qs(url.query)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            script.hits[endpoint] += 1
            script.queries.append(query)
            route = script.routes.get(endpoint)
            reply = route(query, body) if route else Reply(404, b"404 page not found")
            time.sleep(reply.delay)
            self.send_response(reply.status)
            length = reply.declared_length or len(reply.body)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                self.wfile.write(reply.body)
            except OSError:
                return
            if reply.declared_length:
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def kubo(script: Script) -> Iterator[KuboStore]:
    server = _serve(script)
    host, port = server.server_address[:2]
    store = KuboStore(f"http://{host!s}:{port}", timeout=0.5, retries=3, backoff=0.01)
    yield store
    store.close()
    server.shutdown()
    server.server_close()


def _blocks_from(local: LocalStore) -> Route:
    def route(query: dict[str, list[str]], _: bytes) -> Reply:
        try:
            return Reply(body=local.get_block(CID.parse(query["arg"][0])))
        except ContentNotFoundError:
            return _kubo_error("block was not found locally (offline)")

    return route


def test_streamed_read_verifies_each_block(kubo: KuboStore, script: Script, tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "s")
    data = os.urandom(3 * CHUNK_SIZE + 1)
    cid = local.put(data)
    script.routes["/block/get"] = _blocks_from(local)
    assert b"".join(kubo.iter_content(cid)) == data
    assert kubo.stat(cid).size == len(data)
    assert kubo.has(cid)
    assert script.hits["/block/get"] >= 5


def test_get_checks_cat_output_against_the_cid(
    kubo: KuboStore, script: Script, tmp_path: Path
) -> None:
    local = LocalStore(tmp_path / "s")
    data = os.urandom(2 * CHUNK_SIZE)
    cid = local.put(data)
    script.routes["/block/get"] = _blocks_from(local)
    script.routes["/cat"] = lambda q, b: Reply(body=data)
    assert kubo.get(cid) == data
    with pytest.raises(ObjectTooLargeError):
        kubo.get(cid, max_size=len(data) - 1)
    flipped = bytes([data[0] ^ 1]) + data[1:]
    script.routes["/cat"] = lambda q, b: Reply(body=flipped)
    with pytest.raises(IntegrityError, match="does not rebuild"):
        kubo.get(cid)


def test_wrong_block_bytes_are_an_integrity_error(kubo: KuboStore, script: Script) -> None:
    script.routes["/block/get"] = lambda q, b: Reply(body=b"not the block")
    with pytest.raises(IntegrityError):
        kubo.get(compute_cid(b"something"))


def test_kubo_not_found_is_not_retried(kubo: KuboStore, script: Script) -> None:
    script.routes["/block/get"] = lambda q, b: _kubo_error("context deadline exceeded")
    with pytest.raises(ContentNotFoundError, match="deadline"):
        kubo.get(compute_cid(b"unknown"))
    assert script.hits["/block/get"] == 1
    assert script.queries[0]["timeout"] == ["0.5s"]


def test_other_kubo_errors_are_storage_errors(kubo: KuboStore, script: Script) -> None:
    script.routes["/pin/add"] = lambda q, b: _kubo_error("pin: invalid path")
    with pytest.raises(StorageError, match="invalid path"):
        kubo.pin(compute_cid(b"x"))
    with pytest.raises(CIDError):
        kubo.pin("not-a-cid")


def test_unavailable_service_is_retried_then_succeeds(kubo: KuboStore, script: Script) -> None:
    block = b"payload"
    answers = iter([Reply(503), Reply(502), Reply(body=block)])
    script.routes["/block/get"] = lambda q, b: next(answers)
    assert kubo.get(compute_cid(block)) == block
    assert script.hits["/block/get"] == 3


def test_retries_are_bounded(kubo: KuboStore, script: Script) -> None:
    script.routes["/block/get"] = lambda q, b: Reply(503)
    with pytest.raises(StorageError, match="after 3 attempts"):
        kubo.get(compute_cid(b"x"))
    assert script.hits["/block/get"] == 3


def test_a_hanging_node_times_out(kubo: KuboStore, script: Script) -> None:
    script.routes["/block/get"] = lambda q, b: Reply(body=b"late", delay=1.5)
    impatient = KuboStore(kubo.url, timeout=0.2, retries=2, backoff=0.01)
    start = time.monotonic()
    with pytest.raises(StorageError, match="2 attempts"):
        impatient.get(compute_cid(b"late"))
    assert time.monotonic() - start < 2 * 1.5
    impatient.close()


def test_truncated_bodies_are_retried_then_fail(kubo: KuboStore, script: Script) -> None:
    block = b"0123456789" * 10
    script.routes["/block/get"] = lambda q, b: Reply(body=block[:10], declared_length=len(block))
    with pytest.raises(StorageError, match="attempts"):
        kubo.get(compute_cid(block))
    assert script.hits["/block/get"] == 3


def test_unreachable_node_is_a_storage_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    store = KuboStore(url, timeout=0.5, retries=2, backoff=0.01)
    with pytest.raises(StorageError, match=re.escape(url)):
        store.get(compute_cid(b"x"))
    store.close()


def test_add_sends_kubo_flags_and_checks_the_answer(kubo: KuboStore, script: Script) -> None:
    data = os.urandom(CHUNK_SIZE + 5)
    for version in (0, 1):
        want = compute_cid(data, version).encode()
        script.routes["/add"] = lambda q, b, w=want: Reply(body=json.dumps({"Hash": w}).encode())
        assert kubo.put(data, cid_version=version) == want
        query = script.queries[-1]
        assert query["cid-version"] == [str(version)]
        assert query["raw-leaves"] == ["true" if version else "false"]
        assert query["chunker"] == [f"size-{CHUNK_SIZE}"]
        assert query["pin"] == ["true"]
    script.routes["/add"] = lambda q, b: Reply(
        body=b'{"Hash": "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"}'
    )
    with pytest.raises(IntegrityError, match="expected"):
        kubo.put(data)


def test_unpin_of_unpinned_returns_false(kubo: KuboStore, script: Script) -> None:
    script.routes["/pin/rm"] = lambda q, b: _kubo_error("not pinned or pinned indirectly")
    assert kubo.unpin(compute_cid(b"x")) is False
