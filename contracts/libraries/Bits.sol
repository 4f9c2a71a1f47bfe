// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title Bits
 * @notice Bit helpers for the commit/reveal and acceptance bitmasks.
 */
library Bits {
    /// @notice Number of set bits of `x`.
    function popcount(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; x &= x - 1) ++c;
    }
}
