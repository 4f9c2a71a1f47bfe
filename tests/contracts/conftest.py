"""Protocol fixtures: one deployment per worker's Anvil node, a clean chain per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from protocol_helpers import PARAMS, Protocol

from flchain.chain.deploy import deploy_protocol
from flchain.chain.protocol_types import Deployment

if TYPE_CHECKING:
    from web3 import Web3

    from flchain.chain import Transactor


@pytest.fixture(scope="session")
def deployment(transactor: Transactor) -> Deployment:
    """FLToken + FLProtocol deployed with :data:`PARAMS` by account 0 (once per worker)."""
    return deploy_protocol(transactor, transactor.addresses[0], PARAMS)


@pytest.fixture
def proto(
    deployment: Deployment, transactor: Transactor, w3: Web3, chain_snapshot: None
) -> Iterator[Protocol]:
    """The deployed protocol on a chain reverted after the test."""
    yield Protocol(deployment, transactor, w3)


@pytest.fixture
def deploy_with(transactor: Transactor, w3: Web3, chain_snapshot: None) -> Callable[..., Protocol]:
    """Deploy a fresh protocol with :data:`PARAMS` changed by keyword arguments."""

    def _deploy(**changes: object) -> Protocol:
        params = replace(PARAMS, **changes)  # type: ignore[arg-type]
        return Protocol(
            deploy_protocol(transactor, transactor.addresses[0], params), transactor, w3
        )

    return _deploy
