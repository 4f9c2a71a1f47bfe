"""The committed artifacts match the Solidity sources (checked by hashing; no compiler needed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flchain.chain.artifacts import ARTIFACTS_DIR, load_artifact
from flchain.chain.build import SOLC_VERSION, build, collect_sources, source_hashes, stale_artifacts
from flchain.exceptions import ConfigError


def test_committed_artifacts_are_fresh() -> None:
    assert stale_artifacts() == [], "artifacts are stale: run `flchain build` and commit them"


def test_artifacts_record_compiler_settings_and_every_source() -> None:
    for name in ("FLProtocol", "FLToken"):
        artifact = load_artifact(name)
        assert artifact["compiler"]["version"].startswith(SOLC_VERSION + "+")
        assert artifact["compiler"]["settings"]["evmVersion"] == "shanghai"
        assert artifact["compiler"]["settings"]["optimizer"]["enabled"] is True
        assert artifact["bytecode"].startswith("0x6") and len(artifact["deployedBytecode"]) > 1000
        assert any(s.startswith("@openzeppelin/contracts/") for s in artifact["sources"])
        # EIP-170: deployable code stays under 24 KiB
        assert (len(artifact["deployedBytecode"]) - 2) // 2 <= 24_576


def test_an_edited_source_makes_artifacts_stale(tmp_path: Path, repo_root: Path) -> None:
    shutil.copytree(repo_root / "contracts", tmp_path / "contracts")
    (tmp_path / "node_modules").symlink_to(repo_root / "node_modules")
    assert stale_artifacts(tmp_path, ARTIFACTS_DIR) == []
    token = tmp_path / "contracts" / "FLToken.sol"
    token.write_text(token.read_text() + "\n// edited\n")
    assert sorted(stale_artifacts(tmp_path, ARTIFACTS_DIR)) == ["FLProtocol", "FLToken", "Scoring"]


def test_sources_include_imported_openzeppelin_files(repo_root: Path) -> None:
    sources = collect_sources(repo_root)
    assert "contracts/FLProtocol.sol" in sources
    assert "@openzeppelin/contracts/access/AccessControl.sol" in sources
    assert "@openzeppelin/contracts/utils/Context.sol" in sources  # imported transitively
    assert len(source_hashes(sources)["contracts/FLProtocol.sol"]) == 64


def test_unknown_artifact_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no artifact 'Nope'"):
        load_artifact("Nope")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="needs node for the npm solc")
def test_rebuild_reproduces_the_committed_bytecode(tmp_path: Path, repo_root: Path) -> None:
    result = build(repo_root, tmp_path)
    assert {p.stem for p in result.artifacts} == {"FLProtocol", "FLToken", "Scoring"}
    for path in result.artifacts:
        fresh = json.loads(path.read_text())
        committed = load_artifact(path.stem)
        assert fresh["bytecode"] == committed["bytecode"]
        assert fresh["abi"] == committed["abi"]


def test_revert_names_are_generated_from_every_abi(tmp_path: Path) -> None:
    from flchain.chain import revert_gen
    from flchain.chain.revert_names import RevertName

    abis = [load_artifact(name)["abi"] for name in ("FLProtocol", "FLToken")]
    errors = {e["name"] for abi in abis for e in abi if e["type"] == "error"}
    assert {m.value for m in RevertName} == errors
    assert {"TaskFinished", "ClientSlotsFull", "StillRegistered", "NotMinter"} <= errors
    assert revert_gen.is_fresh(ARTIFACTS_DIR)
    copy = tmp_path / "revert_names.py"
    line = '    NotMinter = "NotMinter"\n'
    copy.write_text(revert_gen.REVERT_NAMES.read_text().replace(line, ""))
    assert not revert_gen.is_fresh(ARTIFACTS_DIR, copy)  # a removed name is caught
    revert_gen.write(ARTIFACTS_DIR, copy)
    assert revert_gen.is_fresh(ARTIFACTS_DIR, copy)
