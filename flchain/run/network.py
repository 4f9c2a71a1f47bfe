"""Finding or starting the local testnet a run uses.

``flchain run`` reuses the testnet recorded in ``<home>/testnet.json`` when its
node is alive; otherwise it starts one (Anvil, or the embedded py-evm node
where Node.js or Anvil are missing) from ``ganache-config.json`` and stops it
again when the run ends.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from flchain.chain import testnet
from flchain.chain.node import NodeConfig, find_tool, free_port
from flchain.exceptions import TestnetError
from flchain.party.party import TestnetInfo


@dataclass
class Network:
    """A testnet in use by a run."""

    home: Path
    info: TestnetInfo
    backend: str
    started_here: bool

    @property
    def path(self) -> Path:
        return self.home / testnet.TESTNET_FILE

    def close(self) -> None:
        """Stop the node if this run started it."""
        if self.started_here:
            testnet.down(self.home)
            self.started_here = False


def default_backend() -> str:
    """Anvil when it can run here, else the embedded py-evm node."""
    try:
        find_tool("anvil")
    except TestnetError:
        return "embedded"
    return "anvil" if shutil.which("node") else "embedded"


def ensure_testnet(
    home: Path, config_path: Path | None = None, backend: str | None = None, accounts: int = 40
) -> Network:
    """The live testnet recorded in ``home``, or a new one started there on a free port."""
    try:
        record = testnet.status(home)
    except TestnetError:
        record = {"alive": False}
    if record.get("alive"):
        info = TestnetInfo.load(home / testnet.TESTNET_FILE)
        return Network(home, info, str(record["backend"]), False)
    config = NodeConfig.load(config_path) if config_path and config_path.exists() else NodeConfig()
    if config.accounts < accounts:
        config = replace(config, accounts=accounts)
    config = config.with_port(free_port())  # never race another node for a fixed port
    chosen = backend or default_backend()
    options = testnet.UpOptions(
        backend=chosen, config=config, home=home, deployments=home / "deployments", deploy=False
    )
    testnet.up(options)
    return Network(home, TestnetInfo.load(home / testnet.TESTNET_FILE), chosen, True)
