"""Compile contracts/ with the pinned solc into flchain/chain/artifacts/ (as `flchain build`)."""

from __future__ import annotations

import sys

from flchain.chain.build import build
from flchain.exceptions import FLchainError


def main() -> int:
    try:
        result = build()
    except FLchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in result.artifacts:
        print(f"wrote {path}")
    print(f"compiler {result.compiler}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
