"""A JSON-RPC-over-HTTP server around the embedded py-evm chain.

``python -m flchain.chain.embedded_node --port 8545`` lets separate processes
share one py-evm chain when Anvil and Ganache (Node/npm) are not available. It
listens on 127.0.0.1 only, serves single and batch requests from many threads,
and runs one request at a time against the chain (the provider holds a lock).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from web3.types import RPCEndpoint

from flchain.chain import DEFAULT_MNEMONIC
from flchain.chain.embedded import EmbeddedProvider

MAX_BODY = 32 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    provider: EmbeddedProvider  # set on the subclass made by serve()
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            self._reply(413 if length else 411, _error(None, -32600, "bad Content-Length"))
            return
        try:
            request = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self._reply(200, _error(None, -32700, f"parse error: {exc}"))
            return
        if isinstance(request, list):
            answer: Any = [self._one(r) for r in request] if request else _invalid(None)
        else:
            answer = self._one(request)
        self._reply(200, answer)

    def _one(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return _invalid(request.get("id") if isinstance(request, dict) else None)
        response = dict(
            self.provider.make_request(RPCEndpoint(request["method"]), request.get("params", []))
        )
        response["id"] = request.get("id")
        return response

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per request would drown the node log."""


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _invalid(request_id: Any) -> dict[str, Any]:
    return _error(request_id, -32600, "invalid request")


def serve(host: str, port: int, provider: EmbeddedProvider) -> ThreadingHTTPServer:
    """A threaded HTTP server answering JSON-RPC on ``host:port`` (not yet serving)."""
    handler = type("Handler", (_Handler,), {"provider": provider})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, build the chain, serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--mnemonic", default=DEFAULT_MNEMONIC)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--balance", type=int, default=10_000, help="ETH per account")
    parser.add_argument("--gas-limit", type=int, default=30_000_000)
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost"):
        parser.error("the embedded node listens on 127.0.0.1 only")
    provider = EmbeddedProvider(
        mnemonic=args.mnemonic,
        accounts=args.accounts,
        balance_wei=args.balance * 10**18,
        block_gas_limit=args.gas_limit,
    )
    server = serve(args.host, args.port, provider)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"embedded py-evm node listening on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("embedded node stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
