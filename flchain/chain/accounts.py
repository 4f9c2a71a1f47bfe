"""Local accounts: keys derived from a mnemonic, kept in this process, never sent to a node."""

from __future__ import annotations

from functools import lru_cache

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount

from flchain.exceptions import ConfigError

Account.enable_unaudited_hdwallet_features()

HD_PATH = "m/44'/60'/0'/0/{index}"
"""The BIP-44 path Anvil, Ganache and Hardhat derive their development accounts on."""

MAX_ACCOUNT_INDEX = 2**31 - 1
"""The last non-hardened BIP-32 child index: the highest ``i`` the path can take."""


def accounts_from_mnemonic(mnemonic: str, count: int) -> list[LocalAccount]:
    """The first ``count`` accounts of ``mnemonic`` on the standard path ``m/44'/60'/0'/0/i``."""
    if count < 0:
        raise ConfigError(f"account count must be >= 0, got {count}")
    return [account_from_mnemonic(mnemonic, i) for i in range(count)]


@lru_cache(maxsize=8)
def _seed(mnemonic: str) -> bytes:
    """The BIP-39 seed of ``mnemonic``: the PBKDF2 every account derivation starts from."""
    try:
        return seed_from_mnemonic(mnemonic, "")
    except Exception as exc:  # eth-account raises ValidationError/ValueError variants
        raise ConfigError(f"not a valid mnemonic: {exc}") from exc


@lru_cache(maxsize=1 << 16)
def account_from_mnemonic(mnemonic: str, index: int) -> LocalAccount:
    """Account number ``index`` of ``mnemonic``; the seed is derived once per mnemonic."""
    if not 0 <= index <= MAX_ACCOUNT_INDEX:
        raise ConfigError(f"account index must be in 0..{MAX_ACCOUNT_INDEX}, got {index}")
    key = key_from_seed(_seed(mnemonic), HD_PATH.format(index=index))
    return account_from_key(key)


def account_from_key(private_key: str | bytes) -> LocalAccount:
    """An account from a raw private key (hex string or 32 bytes)."""
    try:
        account: LocalAccount = Account.from_key(private_key)
    except Exception as exc:
        raise ConfigError(f"not a valid private key: {exc}") from exc
    return account
