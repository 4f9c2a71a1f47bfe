"""Compile the Solidity contracts into committed JSON artifacts.

One compile step shared by ``scripts/compile_contracts.py`` and ``flchain build``.
Sources are gathered in Python (``contracts/**.sol`` plus every imported
OpenZeppelin file from ``node_modules``) and handed to the pinned ``solc`` as
standard JSON: the native binary through py-solc-x when that exact version is
installed, else the npm ``solc`` package through ``node``.

Each artifact records the sha256 of every input source, so staleness is checked
by re-hashing the files; no compiler is needed for that (see :func:`stale_artifacts`).
A build also regenerates :mod:`flchain.chain.revert_names` from the ABIs (when
writing the committed artifacts), which the same check compares.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flchain.chain import revert_gen
from flchain.chain.artifacts import ARTIFACTS_DIR
from flchain.exceptions import ChainError, ConfigError

SOLC_VERSION = "0.8.37"
EVM_VERSION = "shanghai"
OPTIMIZER_RUNS = 200
CONTRACTS_DIR = "contracts"
TESTS_DIR = "contracts/test"  # Foundry tests (forge test), never part of a deployment
NODE_MODULES = "node_modules"

SETTINGS: dict[str, Any] = {
    "evmVersion": EVM_VERSION,
    "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.bytecode.linkReferences",
                "evm.deployedBytecode.object",
            ],
            "": ["ast"],
        }
    },
}

_IMPORT = re.compile(r'^\s*import\s+(?:[^"\';]*\s+from\s+)?["\']([^"\']+)["\']\s*;', re.M)


class CompileError(ChainError):
    """The Solidity compiler is missing or reported errors."""


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build` wrote."""

    compiler: str
    artifacts: tuple[Path, ...]


def repo_root() -> Path:
    """The checkout holding ``contracts/`` (two levels above this package)."""
    return Path(__file__).resolve().parents[2]


def _resolve(unit: str, root: Path) -> Path:
    if unit.startswith("@"):
        return root / NODE_MODULES / unit
    return root / unit


def collect_sources(root: Path | None = None) -> dict[str, str]:
    """Every source unit needed to compile ``contracts/``: name -> content."""
    root = root or repo_root()
    units = (p.relative_to(root).as_posix() for p in (root / CONTRACTS_DIR).rglob("*.sol"))
    todo = sorted(u for u in units if not u.startswith(TESTS_DIR + "/"))
    if not todo:
        raise ConfigError(f"no Solidity sources under {root / CONTRACTS_DIR}")
    sources: dict[str, str] = {}
    while todo:
        unit = todo.pop()
        if unit in sources:
            continue
        path = _resolve(unit, root)
        if not path.is_file():
            raise ConfigError(f"Solidity import {unit!r} not found at {path} (run `npm ci`?)")
        content = path.read_text(encoding="utf-8")
        sources[unit] = content
        for imported in _IMPORT.findall(content):
            if imported.startswith("."):
                imported = posixpath.normpath(posixpath.join(posixpath.dirname(unit), imported))
            todo.append(imported)
    return dict(sorted(sources.items()))


def source_hashes(sources: dict[str, str]) -> dict[str, str]:
    """sha256 (hex) of each source's UTF-8 bytes."""
    return {name: hashlib.sha256(text.encode()).hexdigest() for name, text in sources.items()}


def _standard_json(sources: dict[str, str]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }


def _compile_native(payload: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    try:
        import solcx
    except ImportError:
        return None
    try:
        installed = {str(v) for v in solcx.get_installed_solc_versions()}
    except Exception:
        installed = set()
    if SOLC_VERSION in installed:
        out = solcx.compile_standard(payload, solc_version=SOLC_VERSION, allow_empty=True)
        return out, SOLC_VERSION
    binary = shutil.which("solc")
    if binary is None:
        return None
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    if f"Version: {SOLC_VERSION}+" not in version:
        return None
    proc = subprocess.run(
        [binary, "--standard-json"], input=json.dumps(payload), capture_output=True, text=True
    )
    return json.loads(proc.stdout), SOLC_VERSION


_NODE_SCRIPT = """
const solc = require('solc');
let input = '';
process.stdin.on('data', d => { input += d; });
process.stdin.on('end', () => {
  const output = JSON.parse(solc.compile(input));
  process.stdout.write(JSON.stringify({version: solc.version(), output}));
});
"""


def _compile_npm(payload: dict[str, Any], root: Path) -> tuple[dict[str, Any], str]:
    node = shutil.which("node")
    if node is None or not (root / NODE_MODULES / "solc").is_dir():
        raise CompileError(
            f"no solc {SOLC_VERSION}: install it with py-solc-x or run `npm ci` (needs node)"
        )
    proc = subprocess.run(
        [node, "-e", _NODE_SCRIPT],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=root,
    )
    if proc.returncode != 0:
        raise CompileError(f"npm solc failed: {proc.stderr.strip()[:2000]}")
    result = json.loads(proc.stdout)
    version = str(result["version"])
    if not version.startswith(SOLC_VERSION + "+"):
        raise CompileError(f"npm solc is {version}, expected {SOLC_VERSION}")
    return result["output"], version


def compile_sources(
    sources: dict[str, str], root: Path | None = None
) -> tuple[dict[str, Any], str]:
    """Run the pinned compiler on ``sources``; returns (standard-JSON output, version)."""
    root = root or repo_root()
    payload = _standard_json(sources)
    native = _compile_native(payload)
    output, version = native if native is not None else _compile_npm(payload, root)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    return output, version


def _deployable(output: dict[str, Any]) -> list[tuple[str, str]]:
    """(source unit, contract name) of every concrete contract under contracts/, and of every
    library one of them links against (deployed on its own)."""
    found: set[tuple[str, str]] = set()
    for unit, data in output["sources"].items():
        if not unit.startswith(CONTRACTS_DIR + "/"):
            continue
        for node in data["ast"]["nodes"]:
            if (
                node.get("nodeType") == "ContractDefinition"
                and node.get("contractKind") == "contract"
                and not node.get("abstract", False)
            ):
                found.add((unit, node["name"]))
    for unit, name in list(found):
        links = output["contracts"][unit][name]["evm"]["bytecode"]["linkReferences"]
        found.update((lib_unit, lib) for lib_unit, libs in links.items() for lib in libs)
    return sorted(found)


def build(root: Path | None = None, out_dir: Path | None = None) -> BuildResult:
    """Compile every contract and write ``<Contract>.json`` artifacts."""
    root = root or repo_root()
    out_dir = out_dir or ARTIFACTS_DIR
    sources = collect_sources(root)
    output, version = compile_sources(sources, root)
    hashes = source_hashes(sources)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for unit, name in _deployable(output):
        compiled = output["contracts"][unit][name]
        artifact = {
            "contractName": name,
            "sourceName": unit,
            "abi": compiled["abi"],
            "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
            "linkReferences": compiled["evm"]["bytecode"]["linkReferences"],
            "compiler": {"version": version, "settings": _recorded_settings()},
            "sources": hashes,
        }
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    if out_dir == ARTIFACTS_DIR:
        written.append(revert_gen.write(out_dir))
    return BuildResult(compiler=version, artifacts=tuple(written))


def _recorded_settings() -> dict[str, Any]:
    return {k: v for k, v in SETTINGS.items() if k != "outputSelection"}


def stale_artifacts(root: Path | None = None, out_dir: Path | None = None) -> list[str]:
    """Names of artifacts that do not match the current sources or settings (empty when fresh).

    Needs no compiler: it re-hashes the sources and compares with what each artifact recorded.
    For the committed artifacts, a stale generated :mod:`flchain.chain.revert_names` is listed too.
    """
    root = root or repo_root()
    out_dir = out_dir or ARTIFACTS_DIR
    hashes = source_hashes(collect_sources(root))
    stale: list[str] = []
    paths = sorted(out_dir.glob("*.json"))
    if not paths:
        return ["<no artifacts>"]
    for path in paths:
        artifact = json.loads(path.read_text(encoding="utf-8"))
        compiler = artifact.get("compiler", {})
        if (
            artifact.get("sources") != hashes
            or compiler.get("settings") != _recorded_settings()
            or not str(compiler.get("version", "")).startswith(SOLC_VERSION)
        ):
            stale.append(path.stem)
    if out_dir == ARTIFACTS_DIR and not revert_gen.is_fresh(out_dir):
        stale.append(revert_gen.STALE_NAME)
    return stale
