"""Writing :mod:`flchain.chain.revert_names` from the compiled ABIs.

``flchain build`` regenerates the module after compiling; the artifact
freshness check (:func:`flchain.chain.build.stale_artifacts`) compares it with
what the committed artifacts would generate, so Python code that tests a
revert's name compares against constants that exist in the contracts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REVERT_NAMES = Path(__file__).resolve().parent / "revert_names.py"
STALE_NAME = "revert_names"
"""How a stale generated module shows up among the stale artifacts."""

_HEADER = '''"""Names of every custom error the FLchain contracts can revert with.

Generated from the compiled ABIs by ``flchain build``; do not edit. Compare a
:class:`~flchain.exceptions.ContractRevertError`'s ``name`` with these members.
"""

from __future__ import annotations

from enum import StrEnum


class RevertName(StrEnum):
    """A custom error of ``FLProtocol`` or ``FLToken`` (OpenZeppelin's included)."""

'''


def error_names(abis: Iterable[list[dict[str, Any]]]) -> list[str]:
    """Every custom error name in ``abis``, sorted, once each."""
    return sorted({e["name"] for abi in abis for e in abi if e.get("type") == "error"})


def render(names: Iterable[str]) -> str:
    """The source of the generated module for ``names``."""
    return _HEADER + "".join(f'    {n} = "{n}"\n' for n in names)


def artifact_abis(artifacts_dir: Path) -> list[list[dict[str, Any]]]:
    """The ABI of every artifact in ``artifacts_dir``."""
    paths = sorted(artifacts_dir.glob("*.json"))
    return [json.loads(p.read_text(encoding="utf-8"))["abi"] for p in paths]


def write(artifacts_dir: Path, out: Path = REVERT_NAMES) -> Path:
    """Regenerate the module from the artifacts in ``artifacts_dir``."""
    out.write_text(render(error_names(artifact_abis(artifacts_dir))), encoding="utf-8")
    return out


def is_fresh(artifacts_dir: Path, out: Path = REVERT_NAMES) -> bool:
    """Whether ``out`` is what the artifacts in ``artifacts_dir`` generate."""
    expected = render(error_names(artifact_abis(artifacts_dir)))
    return out.is_file() and out.read_text(encoding="utf-8") == expected
