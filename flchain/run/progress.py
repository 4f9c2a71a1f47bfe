"""Live progress of a run: one table row per finished round, a status line below.

On a terminal the table updates in place (rich ``Live``); otherwise each round
is printed as a line when it finishes, so logs and pipes stay readable.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from flchain.run.monitor import RoundReport
from flchain.task.spec import TaskSpec
from flchain.types import Closing


def round_table(reports: list[RoundReport], initial: tuple[float, float] | None = None) -> Table:
    """The per-round table (also printed by ``flchain demo`` at the end)."""
    header = ("round", "accepted", "rejected", "accuracy", "loss", "round s", "train s", "gas")
    rows: list[tuple[str, ...]] = []
    if initial is not None:
        rows.append(("init", "", "", f"{initial[0]:.3f}", f"{initial[1]:.3f}", "", "", ""))
    for r in reports:
        rows.append(
            (
                str(r.round),
                str(r.accepted),
                str(r.rejected),
                f"{r.accuracy:.3f}",
                f"{r.loss:.3f}",
                f"{r.round_s:.2f}",
                f"{r.phases.get('train_s', 0.0):.2f}",
                f"{r.gas_used:,}",
            )
        )
    table = Table(title="FLchain rounds", title_justify="left", box=box.SIMPLE_HEAD)
    for i, name in enumerate(header):
        # Every column as wide as its widest cell: numbers are never cut, even at 80 columns.
        width = max([len(name), *(len(row[i]) for row in rows)])
        table.add_column(name, justify="right", no_wrap=True, min_width=width)
    for row in rows:
        table.add_row(*row)
    return table


class Progress(Closing):
    """Context manager showing rounds as they finish."""

    def __init__(self, console: Console, spec: TaskSpec, initial: tuple[float, float]) -> None:
        self.console = console
        self.spec = spec
        self.initial = initial
        self.reports: list[RoundReport] = []
        self.status = Text("starting")
        self.live: Live | None = None

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self.live = Live(self._render(), console=self.console, refresh_per_second=8)
            self.live.__enter__()
        else:
            self.console.print(f"initial model: accuracy {self.initial[0]:.3f}")
        return self

    def close(self) -> None:
        """Show the final table and stop refreshing it (leaving a ``with`` block does this)."""
        if self.live is not None:
            self.live.update(self._render())
            self.live.stop()

    def _render(self) -> Group:
        return Group(round_table(self.reports, self.initial), self.status)

    def add(self, report: RoundReport) -> None:
        self.reports.append(report)
        if self.live is not None:
            self.live.update(self._render())
        else:
            # Attestations still landing after certification are added to the
            # final table, so the gas streamed here is a lower bound.
            self.console.print(
                f"round {report.round}: accepted {report.accepted}, rejected {report.rejected}, "
                f"accuracy {report.accuracy:.3f}, loss {report.loss:.3f}, "
                f"{report.round_s:.2f} s, gas so far {report.gas_used:,}"
            )

    def update(self, round_id: int, phase: str, running: int) -> None:
        self.status = Text(
            f"round {round_id}/{self.spec.rounds - 1} · phase {phase} · {running} processes running"
        )
        if self.live is not None:
            self.live.update(self._render())

    def note(self, message: str) -> None:
        """A one-off message (crashed child, timeout) printed above the table."""
        self.console.print(message)
