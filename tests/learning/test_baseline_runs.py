"""The in-process baseline: CLI output, reproducibility, and the accuracy claims of the docs."""

from __future__ import annotations

import json
import subprocess

import pytest
import typer
from flchain_cli import run_flchain
from typer.testing import CliRunner

from flchain.cli.baseline import register
from flchain.learning.attacks import ATTACKS
from flchain.learning.baseline import BaselineConfig, run_baseline


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_flchain("baseline", *args, timeout=600)


def test_cli_json_has_the_promised_keys() -> None:
    out = _cli("--clients", "4", "--rounds", "2", "--malicious", "signflip:0.25", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"accuracy", "accuracy_per_round", "wall_s"} <= data.keys()
    assert len(data["accuracy_per_round"]) == 2
    assert data["accuracy"] == data["accuracy_per_round"][-1]
    assert 0.0 <= data["accuracy"] <= 1.0 and data["wall_s"] > 0
    assert data["malicious_clients"] and len(data["malicious_clients"]) == 1
    assert data["attackers"] == {"signflip": data["malicious_clients"]}
    assert data["backdoor_success"] is None


def _in_process(*args: str) -> tuple[int, str, str]:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # keep "baseline" a sub-command
    result = CliRunner().invoke(app, ["baseline", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_table_and_errors() -> None:
    code, out, _ = _in_process("--clients", "3", "--rounds", "1", "--compress", "q8")
    assert code == 0
    assert "final accuracy" in out and "update size" in out
    code, _, err = _in_process("--strategy", "fedsgd", "--rounds", "1")
    assert code == 2 and "unknown strategy 'fedsgd'" in err
    code, _, err = _in_process("--partition", "zipf", "--rounds", "1")
    assert code == 2 and "unknown partition" in err


def _tiny(**kw: object) -> BaselineConfig:
    return BaselineConfig(clients=5, rounds=1, local_epochs=1, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_attack_of_the_registry_runs_in_the_baseline(name: str) -> None:
    amount = "2" if ATTACKS[name].kind == "collusion" else "1"
    res = run_baseline(_tiny(malicious=f"{name}:{amount}", strategy="fedavg"))
    assert len(res.attackers[name]) == int(amount) == len(res.malicious_clients)
    assert 0.0 <= res.accuracy <= 1.0
    assert (res.backdoor_success is not None) == (name == "backdoor")


def test_inflated_claims_and_signflip_change_fedavg() -> None:
    honest = run_baseline(_tiny())
    for attack in ("inflate:1", "signflip:2"):
        assert run_baseline(_tiny(malicious=attack)).accuracy != honest.accuracy, attack
    code, _, err = _in_process("--malicious", "signflip:9", "--clients", "5", "--rounds", "1")
    assert code == 2 and "asks for more than 5 clients" in err


def test_runs_are_reproducible_for_a_seed() -> None:
    cfg = BaselineConfig(clients=5, rounds=2, strategy="fedadam", seed=3)
    assert run_baseline(cfg).accuracy_per_round == run_baseline(cfg).accuracy_per_round


def test_compression_and_dp_are_reported() -> None:
    topk = run_baseline(BaselineConfig(clients=4, rounds=2, compress="topk:0.1"))
    assert topk.bytes_per_update_sent < topk.bytes_per_update_raw / 4
    private = run_baseline(
        BaselineConfig(clients=4, rounds=3, dp_clip=1.0, dp_noise=1.0, fraction_fit=0.5)
    )
    assert private.epsilon is not None and 0 < private.epsilon < 100


@pytest.mark.slow
def test_fedavg_reaches_093_on_non_iid_digits() -> None:
    res = run_baseline(BaselineConfig())  # 20 clients, Dirichlet 0.5, 30 rounds, FedAvg
    assert res.accuracy >= 0.93


@pytest.mark.slow
def test_signflip_breaks_fedavg_but_not_multikrum_or_fltrust() -> None:
    attack = {"malicious": "signflip:0.3"}
    assert run_baseline(BaselineConfig(strategy="fedavg", **attack)).accuracy < 0.3
    assert run_baseline(BaselineConfig(strategy="multikrum", **attack)).accuracy >= 0.85
    assert run_baseline(BaselineConfig(strategy="fltrust", **attack)).accuracy >= 0.85


@pytest.mark.slow
def test_mnist1d_centralised_cnn_reaches_090() -> None:
    res = run_baseline(
        BaselineConfig(
            dataset="mnist1d",
            arch="mnist1d-cnn",
            clients=1,
            rounds=1,
            partition="iid",
            optimizer="adam",
            lr=0.01,
            batch_size=50,
            local_epochs=50,
        )
    )
    assert res.accuracy >= 0.90
