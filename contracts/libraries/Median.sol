// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title Median
 * @notice Lower median of a short list of scores (at most a committee's size).
 */
library Median {
    /// @notice Sorts `values[0..count)` in place and returns the lower median
    /// (`sorted[(count - 1) / 2]`); 0 when `count` is 0.
    function lowerMedian(uint256[] memory values, uint256 count) internal pure returns (uint256) {
        if (count == 0) return 0;
        for (uint256 i = 1; i < count; ++i) {
            uint256 v = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > v) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = v;
        }
        return values[(count - 1) / 2];
    }
}
