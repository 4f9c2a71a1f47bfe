"""Which task the auditor reads: options, testnet file and a run's task.json combine sensibly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flchain.audit.source import Source, resolve_source
from flchain.exceptions import ConfigError

PROTOCOL = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


@pytest.fixture
def testnet(tmp_path: Path) -> Path:
    path = tmp_path / "testnet.json"
    record = {
        "rpc_url": "http://127.0.0.1:9",
        "contracts": {"FLProtocol": PROTOCOL},
        "deployment_block": 7,
    }
    path.write_text(json.dumps(record))
    return path


def test_testnet_default_deployment_starts_at_its_block(testnet: Path) -> None:
    assert resolve_source(testnet) == Source("http://127.0.0.1:9", PROTOCOL, 7)


def test_another_address_reads_from_genesis_unless_told(testnet: Path) -> None:
    assert resolve_source(testnet, address=OTHER).from_block == 0
    assert resolve_source(testnet, address=OTHER, from_block=3).from_block == 3
    assert resolve_source(testnet, rpc_url="http://x:1", address=OTHER).rpc_url == "http://x:1"


def test_a_runs_task_file_names_address_and_block(testnet: Path, tmp_path: Path) -> None:
    task = tmp_path / "task.json"
    task.write_text(json.dumps({"protocol": OTHER, "deployment_block": 42}))
    assert resolve_source(testnet, task_file=task) == Source("http://127.0.0.1:9", OTHER, 42)


def test_bad_options_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--rpc"):
        resolve_source()
    with pytest.raises(ConfigError, match="--address"):
        resolve_source(rpc_url="http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="cannot read testnet file"):
        resolve_source(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        resolve_source(broken)


def test_a_runs_recorded_node_is_used_when_no_node_is_named(testnet: Path, tmp_path: Path) -> None:
    task = tmp_path / "task.json"
    task.write_text(json.dumps({"rpc_url": "http://127.0.0.1:8", "protocol": OTHER}))
    source = resolve_source(task_file=task, fallback_testnet=testnet)
    assert source == Source("http://127.0.0.1:8", OTHER, 0)  # the run's node, not the default
    assert source.origin == f"recorded in {task}"
    assert resolve_source(testnet, task_file=task).rpc_url == "http://127.0.0.1:9"  # explicit
    assert resolve_source(rpc_url="http://x:1", task_file=task).rpc_url == "http://x:1"
    task.write_text(json.dumps({"protocol": OTHER}))  # an older run: no URL recorded
    assert resolve_source(task_file=task, fallback_testnet=testnet).rpc_url == "http://127.0.0.1:9"
    with pytest.raises(ConfigError, match="no node to read: pass --run DIR"):
        resolve_source(task_file=task)
    task.write_text(json.dumps({"rpc_url": ["http://127.0.0.1:8"], "protocol": OTHER}))
    with pytest.raises(ConfigError, match="rpc_url is not a string"):
        resolve_source(task_file=task)
