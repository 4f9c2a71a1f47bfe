"""The fast signer produces exactly the bytes eth-account produces."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from flchain.chain.signing import SECP256K1_N, DynamicFeeTx, Signer

uint = st.integers(min_value=0, max_value=2**64)


@settings(max_examples=60, deadline=None)
@given(
    key=st.integers(min_value=1, max_value=SECP256K1_N - 1),
    chain_id=st.integers(min_value=1, max_value=2**40),
    nonce=uint,
    tip=uint,
    fee=uint,
    gas=st.integers(min_value=21_000, max_value=30_000_000),
    to=st.one_of(st.just(b""), st.binary(min_size=20, max_size=20)),
    value=st.integers(min_value=0, max_value=2**128),
    data=st.binary(max_size=300),
)
def test_same_raw_transaction_as_eth_account(
    key: int,
    chain_id: int,
    nonce: int,
    tip: int,
    fee: int,
    gas: int,
    to: bytes,
    value: int,
    data: bytes,
) -> None:
    private_key = key.to_bytes(32, "big")
    fields = {
        "chainId": chain_id,
        "nonce": nonce,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": fee,
        "gas": gas,
        "value": value,
        "data": data,
    }
    if to:
        fields["to"] = to_checksum_address(to)
    expected = bytes(Account.from_key(private_key).sign_transaction(fields).raw_transaction)
    ours = Signer(private_key).sign(DynamicFeeTx(chain_id, nonce, tip, fee, gas, to, value, data))
    assert ours == expected


def test_bad_keys_and_addresses_are_refused() -> None:
    with pytest.raises(ValueError, match="private key"):
        Signer(b"\x00" * 32)
    with pytest.raises(ValueError, match="private key"):
        Signer(b"\x01" * 31)
    signer = Signer(b"\x01" * 32)
    with pytest.raises(ValueError, match="20 bytes"):
        signer.sign(DynamicFeeTx(1, 0, 0, 0, 21_000, b"\x01" * 19, 0, b""))
