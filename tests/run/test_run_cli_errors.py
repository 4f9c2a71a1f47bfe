"""The run, client and miner commands refuse bad input with one clear line and a non-zero exit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from flchain_cli import run_flchain

from flchain.exceptions import ConfigError
from flchain.party.party import TestnetInfo


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_flchain(*args, cwd=cwd, timeout=120)


def test_unknown_client_behaviour(tmp_path: Path) -> None:
    out = _run("client", "--index", "0", "--behaviour", "evil", cwd=tmp_path)
    assert out.returncode != 0
    assert "evil" in out.stderr


def test_missing_testnet_file(tmp_path: Path) -> None:
    out = _run("miner", "--index", "0", "--testnet", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert out.returncode == 2
    assert "nope.json" in out.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--malicious", "evil:1", "unknown behaviour 'evil'"),  # a bad --malicious spec
        ("--strategy", "fltrust", "root data set"),  # a strategy needing a root data set
    ],
)
def test_bad_task_is_refused_before_starting_anything(
    option: str, value: str, message: str, tmp_path: Path
) -> None:
    out = _run(
        "run", option, value, "--home", str(tmp_path / "h"), "--out", str(tmp_path / "r"),
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 2
    assert message in out.stdout + out.stderr
    assert not (tmp_path / "h" / "testnet.json").exists()


def test_testnet_file_errors_name_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "testnet.json"
    path.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        TestnetInfo.load(path)
    path.write_text('{"rpc_url": "http://127.0.0.1:1"}')
    with pytest.raises(ConfigError, match="'mnemonic'"):
        TestnetInfo.load(path)
    path.write_text('{"rpc_url": "u", "mnemonic": "m", "contracts": {"FLProtocol": "0xab"}}')
    info = TestnetInfo.load(path)
    assert (info.protocol, info.deployment_block, info.funded_accounts) == ("0xab", 0, 0)


def test_client_of_a_task_without_a_spec_in_the_store(tmp_path: Path) -> None:
    from flchain.chain import testnet
    from flchain.chain.node import NodeConfig, free_port

    home = tmp_path / "home"
    options = testnet.UpOptions(
        config=NodeConfig().with_port(free_port()), home=home, deployments=home / "deployments"
    )
    testnet.up(options)
    try:
        out = _run(
            "client", "--index", "0", "--testnet", str(home / "testnet.json"),
            "--store", str(tmp_path / "empty-store"), cwd=tmp_path,
        )  # fmt: skip
    finally:
        testnet.down(home)
    assert out.returncode == 2
    assert "cannot read the task spec" in out.stderr


def test_run_directory_holding_a_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "summary.json").write_text("{}")
    out = _run("run", "--home", str(tmp_path / "h"), "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert out.returncode == 2
    assert "already holds a run" in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dp-noise", "1.0"), "needs a clip norm"),
        (("--dp-clip", "1.0"), "clipping alone gives no privacy guarantee"),
        (("--dp-clip", "1.0", "--dp-noise", "1.0", "--dp-epsilon", "3"), "not both"),
        (("--compress", "gzip"), "unknown compression 'gzip'; use topk:<fraction> or q8"),
        (("--compress", "topk:1.5"), "top-k fraction in 'topk:1.5' must be in (0, 1]"),
    ],
)
def test_bad_dp_and_compression_settings_fail_before_starting_anything(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = _run(
        "run", *args, "--home", str(tmp_path / "h"), "--out", str(tmp_path / "r"), cwd=tmp_path
    )
    assert out.returncode == 2
    assert message in " ".join((out.stdout + out.stderr).split())
    assert not (tmp_path / "h" / "testnet.json").exists()
