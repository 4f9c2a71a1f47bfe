"""Human-readable end-of-run output: the round table and the per-party summary."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from flchain.run.orchestrator import RunResult
from flchain.run.progress import round_table
from flchain.units import TOKEN_SYMBOL


def party_table(summary: dict[str, object]) -> Table:
    """Behaviour, rewards and reputation of every party."""
    table = Table(title="Parties", title_justify="left")
    for name in ("party", "address", "behaviour", f"reward ({TOKEN_SYMBOL})", "reputation", "exit"):
        table.add_column(name)
    parties = summary["parties"]
    rewards = summary["rewards"]
    reputation = summary["reputation"]
    exits = summary["exit_codes"]
    assert isinstance(parties, dict) and isinstance(rewards, dict)
    assert isinstance(reputation, dict) and isinstance(exits, dict)
    for name, info in parties.items():
        address = info["address"]
        table.add_row(
            name,
            address[:10] + "…",
            info["behaviour"],
            f"{rewards.get(address, 0.0):.1f}",
            str(reputation.get(address, "")),
            str(exits.get(name, "")),
        )
    return table


def print_summary(console: Console, result: RunResult) -> None:
    """The final round table, the parties, and where the artefacts are."""
    s = result.summary
    console.print(round_table(result.reports, (s["initial_accuracy"], s["initial_loss"])))
    console.print(party_table(s))
    console.print(
        f"final accuracy [bold]{s['final_accuracy']:.3f}[/] after {s['rounds']} rounds "
        f"in {s['wall_s']:.1f} s (startup {s['startup_s']:.1f} s); "
        f"rejected by behaviour: {s['rejected_by_behaviour']}"
    )
    console.print(f"artefacts: {result.out}/metrics.jsonl, summary.json, task.json, logs/, store/")
