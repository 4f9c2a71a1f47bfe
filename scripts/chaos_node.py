"""The chain of one chaos trial: Anvil with a state file, optionally behind a holding proxy.

For the ``restart-chain`` fault the parties talk to Anvil through a small
JSON-RPC proxy on its own port (it stands for a stable endpoint, like a load
balancer): while Anvil is down, the proxy holds each request and retries it
until the node is back (at most ``HOLD_S``). Without it, the first refused
connection ends every party: ``flchain.chain.connection`` does not reconnect.
Restarting = SIGTERM (Anvil writes its state file on exit), then start Anvil
again on the same port from that file, and record its new pid.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from flchain.chain import testnet
from flchain.chain.node import NodeConfig, free_port, start_node, stop_pid

HOLD_S = 30.0
ACCOUNTS = 40


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    backend = ""
    local = threading.local()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        deadline = time.monotonic() + HOLD_S
        while True:
            try:
                reply = session.post(
                    self.backend,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=30,
                )
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    self.send_error(502, "node unavailable")
                    return
                session = self.local.session = requests.Session()
                time.sleep(0.05)
        self.send_response(reply.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply.content)))
        self.end_headers()
        self.wfile.write(reply.content)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Chain:
    """Anvil under ``home`` with its state in ``home/state``; ``proxy``: behind a proxy."""

    home: Path
    proxy: bool
    config: NodeConfig = field(default_factory=lambda: NodeConfig(accounts=ACCOUNTS))
    _server: ThreadingHTTPServer | None = None

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    def up(self) -> None:
        self.config = self.config.with_port(free_port())
        options = testnet.UpOptions(
            backend="anvil",
            config=self.config,
            home=self.home,
            deployments=self.home / "deployments",
            state_dir=self.state_dir,
            deploy=False,
        )
        testnet.up(options)
        if self.proxy:
            handler = type(
                "Forward", (_Forward,), {"backend": f"http://127.0.0.1:{self.config.port}"}
            )
            self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
            self._server.daemon_threads = True
            threading.Thread(target=self._server.serve_forever, daemon=True).start()
            port = self._server.server_address[1]
            self._update(rpc_url=f"http://127.0.0.1:{port}", port=port)

    def restart(self) -> float:
        """Stop the node (it dumps its state) and start it again from the file; seconds taken."""
        started = time.monotonic()
        pid = testnet.read_info(self.home).pid
        if pid is None:
            raise RuntimeError(f"no node pid recorded in {self.home}")
        stop_pid(pid, 20.0)
        config = replace(self.config)
        node = start_node(
            "anvil", config, log_path=self.home / "node.log", state_dir=self.state_dir
        )
        self._update(pid=node.pid)
        return time.monotonic() - started

    def down(self) -> None:
        try:
            testnet.down(self.home)
        finally:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()

    def _update(self, **changes: object) -> None:
        path = self.home / testnet.TESTNET_FILE
        record = json.loads(path.read_text())
        record.update(changes)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2))
        tmp.replace(path)
