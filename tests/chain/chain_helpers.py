"""Helpers of the chain-layer tests: compiling Probe.sol, call data, a deployed Probe."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flchain.chain import Transactor, accounts_from_mnemonic
from flchain.types import Address

PROBE_SOURCE = Path(__file__).parent / "contracts" / "Probe.sol"

_SOLC_SCRIPT = """
const solc = require('solc');
const fs = require('fs');
const path = require('path');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
function findImports(p) {
  const full = path.join(process.cwd(), 'node_modules', p);
  return fs.existsSync(full) ? { contents: fs.readFileSync(full, 'utf8') } : { error: 'no ' + p };
}
process.stdout.write(solc.compile(JSON.stringify(input), { import: findImports }));
"""


def compile_contract(source: Path, name: str, repo_root: Path) -> tuple[list[dict[str, Any]], str]:
    """The ABI and creation bytecode of contract ``name`` in ``source`` (npm solc via node)."""
    request = {
        "language": "Solidity",
        "sources": {source.name: {"content": source.read_text()}},
        "settings": {
            "evmVersion": "shanghai",
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    out = subprocess.run(
        ["node", "-e", _SOLC_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        cwd=repo_root,
    )
    result = json.loads(out.stdout)
    errors = [e["formattedMessage"] for e in result.get("errors", []) if e["severity"] == "error"]
    assert not errors, "\n".join(errors)
    compiled = result["contracts"][source.name][name]
    return compiled["abi"], "0x" + compiled["evm"]["bytecode"]["object"]


def calldata(signature: str, *args: Any) -> bytes:
    """ABI-encoded call data for ``signature`` (e.g. ``"store(uint256,uint256,string)"``)."""
    types = signature[signature.index("(") + 1 : -1]
    arg_types = [t for t in types.split(",") if t]
    return function_signature_to_4byte_selector(signature) + encode(arg_types, list(args))


@dataclass(frozen=True)
class Chain:
    """One backend under test, with Probe deployed by ``accounts[0]``."""

    backend: str
    w3: Web3
    transactor: Transactor
    accounts: list[Address]
    probe: Address
    abi: list[dict[str, Any]]


def deploy_probe(
    w3: Web3, mnemonic: str, backend: str, artifact: tuple[list[dict[str, Any]], str]
) -> Chain:
    abi, bytecode = artifact
    tx = Transactor(w3)
    accounts = [tx.add_account(a) for a in accounts_from_mnemonic(mnemonic, 10)]
    tx.register_errors(abi)
    receipt = tx.transact(accounts[0], None, bytecode)
    return Chain(backend, w3, tx, accounts, Address(receipt["contractAddress"]), abi)
