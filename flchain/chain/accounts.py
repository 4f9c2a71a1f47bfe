"""Local accounts: keys derived from a mnemonic, kept in this process, never sent to a node."""

from __future__ import annotations

from functools import lru_cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

from flchain.exceptions import ConfigError

Account.enable_unaudited_hdwallet_features()

HD_PATH = "m/44'/60'/0'/0/{index}"
"""The BIP-44 path Anvil, Ganache and Hardhat derive their development accounts on."""


def accounts_from_mnemonic(mnemonic: str, count: int) -> list[LocalAccount]:
    """The first ``count`` accounts of ``mnemonic`` on the standard path ``m/44'/60'/0'/0/i``."""
    if count < 0:
        raise ConfigError(f"account count must be >= 0, got {count}")
    return [account_from_mnemonic(mnemonic, i) for i in range(count)]


@lru_cache(maxsize=1024)
def account_from_mnemonic(mnemonic: str, index: int) -> LocalAccount:
    """Account number ``index`` of ``mnemonic`` (cached: derivation costs a PBKDF2)."""
    try:
        account: LocalAccount = Account.from_mnemonic(
            mnemonic, account_path=HD_PATH.format(index=index)
        )
    except Exception as exc:  # eth-account raises ValidationError/ValueError variants
        raise ConfigError(f"cannot derive account {index} from the mnemonic: {exc}") from exc
    return account


def account_from_key(private_key: str | bytes) -> LocalAccount:
    """An account from a raw private key (hex string or 32 bytes)."""
    try:
        account: LocalAccount = Account.from_key(private_key)
    except Exception as exc:
        raise ConfigError(f"not a valid private key: {exc}") from exc
    return account
