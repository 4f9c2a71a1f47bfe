"""Compiled contract artifacts (``<Contract>.json``), committed and rebuilt by ``flchain build``."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flchain.exceptions import ConfigError

ARTIFACTS_DIR = Path(__file__).resolve().parent


@cache
def _read(name: str) -> str:
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in ARTIFACTS_DIR.glob("*.json"))) or "none"
        raise ConfigError(f"no artifact {name!r} (known: {known}); run `flchain build`")
    return path.read_text(encoding="utf-8")


def load_artifact(name: str) -> dict[str, Any]:
    """The artifact of contract ``name``: abi, bytecode, deployedBytecode, compiler, sources."""
    artifact: dict[str, Any] = json.loads(_read(name))
    return artifact
