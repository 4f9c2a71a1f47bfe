"""``open_store``: the one call clients, miners and the CLI use to get a store."""

from __future__ import annotations

from pathlib import Path

from flchain.exceptions import ConfigError
from flchain.storage.base import ContentStore
from flchain.storage.local import LocalStore

DEFAULT_STORE_DIR = ".flchain/store"


def open_store(store_dir: str | Path | None = None, kubo_url: str | None = None) -> ContentStore:
    """A :class:`KuboStore` when ``kubo_url`` is given, else a :class:`LocalStore`.

    ``store_dir`` defaults to ``.flchain/store``; giving both is a ConfigError.
    """
    if kubo_url and store_dir:
        raise ConfigError("give either a store directory or a Kubo URL, not both")
    if kubo_url:
        if not kubo_url.startswith(("http://", "https://")):
            raise ConfigError(f"Kubo URL must start with http:// or https://, got {kubo_url!r}")
        from flchain.storage.kubo import KuboStore

        return KuboStore(kubo_url)
    return LocalStore(store_dir or DEFAULT_STORE_DIR)
