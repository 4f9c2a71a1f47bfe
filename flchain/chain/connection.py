"""Connecting to an Ethereum node, and the raw JSON-RPC calls the chain layer makes.

:func:`connect` opens one keep-alive HTTP session to a node (Anvil, Ganache, the
embedded node server, or any other JSON-RPC endpoint); :func:`connect_embedded`
runs py-evm in this process. Both return a plain :class:`web3.Web3`.

:func:`rpc` and :func:`rpc_batch` send raw JSON-RPC requests straight to the
provider (no middleware, hex in and hex out) and translate every transport error
into :class:`~flchain.exceptions.NodeUnavailableError` and every JSON-RPC error
into :class:`~flchain.exceptions.RPCError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from flchain.chain import DEFAULT_MNEMONIC
from flchain.exceptions import NodeUnavailableError, RPCError


def connect(rpc_url: str, *, timeout: float = 30) -> Web3:
    """Connect to the node at ``rpc_url`` over one keep-alive HTTP session.

    Raises :class:`NodeUnavailableError` naming the URL if it does not answer
    ``eth_chainId``.
    """
    if not rpc_url.startswith(("http://", "https://")):
        raise NodeUnavailableError(f"not an HTTP JSON-RPC URL: {rpc_url!r}")
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    provider = HTTPProvider(
        rpc_url,
        session=session,
        request_kwargs={"timeout": timeout},
        exception_retry_configuration=None,
    )
    w3 = Web3(provider)
    rpc(w3, "eth_chainId", [])  # fails fast, naming the URL
    return w3


def connect_embedded(
    *,
    mnemonic: str = DEFAULT_MNEMONIC,
    accounts: int = 20,
    balance_eth: int = 10_000,
    block_gas_limit: int = 30_000_000,
) -> Web3:
    """An in-process py-evm chain whose first ``accounts`` mnemonic accounts are funded."""
    from flchain.chain.embedded import EmbeddedProvider

    provider = EmbeddedProvider(
        mnemonic=mnemonic,
        accounts=accounts,
        balance_wei=balance_eth * 10**18,
        block_gas_limit=block_gas_limit,
    )
    return Web3(provider)


def endpoint_name(w3: Web3) -> str:
    """A short human name for the node behind ``w3`` (its URL, or ``embedded``)."""
    return str(getattr(w3.provider, "endpoint_uri", None) or "embedded")


def rpc(w3: Web3, method: str, params: Sequence[Any]) -> Any:
    """Send one raw JSON-RPC request and return its ``result``."""
    try:
        response = w3.provider.make_request(RPCEndpoint(method), list(params))
    except (requests.RequestException, OSError) as exc:
        raise NodeUnavailableError(f"node at {endpoint_name(w3)} does not answer: {exc}") from exc
    return _result(w3, method, response)


def rpc_batch(w3: Web3, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """Send many raw JSON-RPC requests in one round trip (when the transport allows).

    Returns, in order, each call's result or the :class:`RPCError` it failed with
    (errors are returned, not raised, so one bad call does not hide the others).
    """
    if not calls:
        return []
    requests_ = [(RPCEndpoint(m), list(p)) for m, p in calls]
    try:
        responses = w3.provider.make_batch_request(requests_)  # type: ignore[attr-defined]
    except (requests.RequestException, OSError) as exc:
        raise NodeUnavailableError(f"node at {endpoint_name(w3)} does not answer: {exc}") from exc
    if not isinstance(responses, list):  # the whole batch was refused
        _result(w3, "batch", responses)
        raise RPCError(f"node at {endpoint_name(w3)} refused a batch request")
    out: list[Any] = []
    for (method, _), response in zip(calls, responses, strict=True):
        try:
            out.append(_result(w3, method, response))
        except RPCError as exc:
            out.append(exc)
    return out


def _result(w3: Web3, method: str, response: Any) -> Any:
    error = response.get("error") if isinstance(response, dict) else None
    if error is None:
        if not isinstance(response, dict) or "result" not in response:
            raise RPCError(f"{method}: malformed response from {endpoint_name(w3)}: {response!r}")
        return response["result"]
    if isinstance(error, dict):
        raise RPCError(
            f"{method}: {error.get('message', error)}",
            code=int(error.get("code", 0) or 0),
            data=error.get("data"),
            method=method,
        )
    raise RPCError(f"{method}: {error}", method=method)
