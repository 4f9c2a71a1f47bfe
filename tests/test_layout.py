"""The architecture's import rules and the file-size rule, checked on the source tree.

* only ``flchain/chain`` imports web3 and the ``eth_*`` libraries;
* only ``flchain/storage`` knows IPFS: other packages use its public API (stores,
  the model codec, CIDs as values), never its DAG-PB, CAR or Kubo internals. The one
  written-down exception is ``flchain/chain/cidcodec.py``, which turns a CID into the
  binary form the contract stores;
* the auditor imports the shared task rules, never the orchestration
  (``flchain.run``), the party runtime (``flchain.party``) or the roles;
* the learning core imports nothing of ours but itself, ``flchain.exceptions`` and
  ``flchain.types``; the task rules import no process or chain code;
* no source file (Python or Solidity) is longer than 400 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("flchain", "clients", "miners", "scripts", "tests", "contracts")
MAX_LINES = 400
STORAGE_INTERNALS = ("flchain.storage.dagpb", "flchain.storage.car", "flchain.storage.kubo")
CID_CODEC_EXCEPTION = "flchain/chain/cidcodec.py"


def _python_files(*tops: str) -> Iterator[Path]:
    for top in tops:
        yield from sorted((ROOT / top).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _offenders(tops: tuple[str, ...], bad: tuple[str, ...], skip: str = "") -> list[str]:
    out = []
    for path in _python_files(*tops):
        rel = _rel(path)
        if skip and rel.startswith(skip):
            continue
        hits = sorted(n for n in _imports(path) if n.startswith(bad))
        if hits:
            out.append(f"{rel}: {', '.join(hits)}")
    return out


def test_only_the_chain_package_imports_web3() -> None:
    bad = ("web3", "eth_account", "eth_abi", "eth_utils", "eth_typing", "eth_keys", "hexbytes")
    assert _offenders(("flchain", "clients", "miners"), bad, skip="flchain/chain/") == []


def test_only_the_storage_package_knows_ipfs_internals() -> None:
    offenders = _offenders(("flchain", "clients", "miners"), STORAGE_INTERNALS, "flchain/storage/")
    # The storage CLI is the storage package's own front end.
    assert [o for o in offenders if not o.startswith("flchain/cli/store.py")] == []
    cid_internals = ("flchain.storage.cid.encode_varint", "flchain.storage.cid.decode_varint")
    users = _offenders(("flchain", "clients", "miners"), cid_internals, "flchain/storage/")
    assert [u for u in users if not u.startswith(CID_CODEC_EXCEPTION)] == []


def test_the_auditor_imports_no_orchestration() -> None:
    bad = ("flchain.run", "flchain.party", "flchain.simulation", "clients", "miners")
    assert _offenders(("flchain/audit",), bad) == []


def test_the_learning_core_imports_only_itself() -> None:
    allowed = ("flchain.learning", "flchain.exceptions", "flchain.types")
    out = []
    for path in _python_files("flchain/learning"):
        ours = [n for n in _imports(path) if n == "flchain" or n.startswith("flchain.")]
        hits = sorted(n for n in ours if not n.startswith(allowed))
        if hits:
            out.append(f"{_rel(path)}: {', '.join(hits)}")
    assert out == []


def test_the_task_rules_start_no_process_and_talk_to_no_chain() -> None:
    bad = ("flchain.run", "flchain.party", "flchain.chain", "subprocess", "web3")
    assert _offenders(("flchain/task",), bad) == []


@pytest.mark.parametrize("top", SOURCES)
def test_no_source_file_is_longer_than_the_limit(top: str) -> None:
    files = [p for p in (ROOT / top).rglob("*") if p.suffix in (".py", ".sol")]
    long = {
        _rel(p): n
        for p in files
        if "node_modules" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
