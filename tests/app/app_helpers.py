"""Writing small Flower apps into a temporary directory, one package name per app."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

from flchain.app.config import AppConfig
from flchain.app.flower import FlowerProgram
from flchain.app.program import Partitions

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
_names = itertools.count()

MODEL = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 3)
        self.out = nn.Linear(3, 2)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))
"""


def write_app(tmp: Path, client: str, flchain: str = "", components: str | None = None) -> Path:
    """An app dir whose package (a fresh name) holds ``model.py`` and ``client_app.py``."""
    pkg = f"probe_app_{next(_names)}"
    root = tmp / pkg
    (root / pkg).mkdir(parents=True)
    (root / pkg / "__init__.py").write_text("")
    (root / pkg / "model.py").write_text(MODEL)
    (root / pkg / "client_app.py").write_text(textwrap.dedent(client).replace("PKG", pkg))
    entry = f'clientapp = "{pkg}.client_app:app"' if components is None else components
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{pkg}"\n\n[tool.flwr.app.components]\n{entry}\n\n'
        "[tool.flwr.app.config]\nwidth = 4\n\n"
        f'[tool.flchain]\ninitial-model = "{pkg}.model:Net"\n{flchain}\n'
    )
    return root


def program(root: Path, clients: int = 3, miners: int = 2, seed: int = 0) -> FlowerProgram:
    return FlowerProgram(AppConfig.load(root), Partitions(clients, miners), seed)
