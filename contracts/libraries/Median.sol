// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title Median
 * @notice Lower median of a short list of scores (at most a committee's size).
 */
library Median {
    /// @notice Sorts `values[0..count)` in place and returns the lower median
    /// (`sorted[(count - 1) / 2]`); 0 when `count` is 0. `count` is capped at `values.length`.
    /// @dev Insertion sort in assembly: finalization sorts every update's scores (up to 16), and
    /// the checked high-level version costs about 60 k gas for 16 reversed values, this one ~6 k.
    function lowerMedian(uint256[] memory values, uint256 count) internal pure returns (uint256 median) {
        if (count > values.length) count = values.length;
        if (count == 0) return 0;
        assembly ("memory-safe") {
            let data := add(values, 0x20)
            for {
                let i := 1
            } lt(i, count) {
                i := add(i, 1)
            } {
                let v := mload(add(data, shl(5, i)))
                let j := i
                for {

                } gt(j, 0) {
                    j := sub(j, 1)
                } {
                    let prev := mload(add(data, shl(5, sub(j, 1))))
                    if iszero(gt(prev, v)) {
                        break
                    }
                    mstore(add(data, shl(5, j)), prev)
                }
                mstore(add(data, shl(5, j)), v)
            }
            median := mload(add(data, shl(5, shr(1, sub(count, 1)))))
        }
    }
}
