"""The Foundry project: forge builds the committed bytecode and its Solidity suite passes.

forge (npm ``@foundry-rs/forge-linux-amd64``) compiles offline through ``scripts/solc``, the
npm compiler behind a ``solc`` command line; the same wrapper serves Slither.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flchain.chain.artifacts import load_artifact

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("forge")]


def _forge(root: Path) -> str:
    local = root / "node_modules" / ".bin" / "forge"
    found = str(local) if local.exists() else shutil.which("forge")
    if found is None:
        pytest.skip("forge is not installed (run `make setup`)")
    return found


def _run(cmd: list[str], root: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)


# The IPFS hash of a CBOR metadata block: `{"ipfs": <34-byte multihash>, "solc": ...}`.
_METADATA_HASH = re.compile(rb"(\xa2dipfsX\x22\x12\x20).{32}(dsolcC)", re.DOTALL)
_LIBRARY_PLACEHOLDER = re.compile(r"__\$[0-9a-f]{34}\$__")  # an unlinked library's address


def strip_metadata(code: str) -> str:
    """Bytecode without its trailing CBOR metadata (length in the last two bytes), and with
    the metadata hash of any embedded creation code (FLProtocol creates its FLToken) and any
    unlinked library address zeroed."""
    raw = bytes.fromhex(_LIBRARY_PLACEHOLDER.sub("0" * 40, code.removeprefix("0x")))
    body = raw[: -(int.from_bytes(raw[-2:], "big") + 2)]
    return _METADATA_HASH.sub(lambda m: m.group(1) + bytes(32) + m.group(2), body).hex()


def test_strip_metadata_zeroes_embedded_hashes() -> None:
    meta = bytes.fromhex("a2646970667358221220") + bytes(range(32)) + b"dsolcC" + bytes(3)
    tail = bytes.fromhex("a2646970667358221220") + bytes(32) + b"dsolcC" + bytes([0, 8, 37])
    code = b"\x60\x80" + meta + b"\x00" + tail + len(tail).to_bytes(2, "big")
    zeroed = strip_metadata("0x" + code.hex())
    assert zeroed == (b"\x60\x80" + meta.replace(bytes(range(32)), bytes(32)) + b"\x00").hex()


def test_forge_build_matches_committed_artifacts(repo_root: Path) -> None:
    proc = _run([_forge(repo_root), "build"], repo_root, 850)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("FLProtocol", "FLToken", "Scoring"):
        artifact = load_artifact(name)
        out = json.loads(
            (repo_root / ".forge" / "out" / f"{name}.sol" / f"{name}.json").read_text()
        )
        for key in ("bytecode", "deployedBytecode"):
            forged = out[key]["object"]
            assert strip_metadata(forged) == strip_metadata(artifact[key]), f"{name} {key}"


def test_forge_test_suite_passes(repo_root: Path) -> None:
    proc = _run([_forge(repo_root), "test"], repo_root, 850)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "0 failed" in proc.stdout
    assert "invariant_protocol() (runs: 64, calls: 12800" in proc.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node for the npm solc")
def test_solc_wrapper_combined_json_matches_artifact(repo_root: Path) -> None:
    solc = str(repo_root / "scripts" / "solc")
    version = _run([solc, "--version"], repo_root, 60).stdout
    assert "Version: 0.8.37+commit.f401782d.Linux.g++" in version
    fields = "abi,ast,bin,bin-runtime,srcmap,srcmap-runtime,userdoc,devdoc,hashes,compact-format"
    cmd = [solc, "contracts/FLProtocol.sol", "--combined-json", fields, "--optimize"]
    proc = _run([*cmd, "--optimize-runs", "200", "--evm-version", "shanghai"], repo_root, 600)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) > 65_536  # a pipe-sized cut would break the JSON below
    out = json.loads(proc.stdout)
    compiled = out["contracts"]["contracts/FLProtocol.sol:FLProtocol"]
    want = load_artifact("FLProtocol")["deployedBytecode"]
    assert strip_metadata(compiled["bin-runtime"]) == strip_metadata(want)
    assert compiled["hashes"]["finalizeRound(uint256)"] == "3469f6e2"
    assert "@openzeppelin/contracts/access/AccessControl.sol" in out["sourceList"]
    assert out["sources"]["contracts/FLProtocol.sol"]["AST"]["nodeType"] == "SourceUnit"
