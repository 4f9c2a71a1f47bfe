// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Median} from "../libraries/Median.sol";
import {Test} from "./utils/Test.sol";

/// @notice The assembly insertion sort against a plain sort.
contract MedianTest is Test {
    function sortedMedian(uint256[] memory v, uint256 count) internal pure returns (uint256) {
        if (count == 0) return 0;
        for (uint256 i = 0; i < count; ++i) {
            for (uint256 j = i + 1; j < count; ++j) {
                if (v[j] < v[i]) (v[i], v[j]) = (v[j], v[i]);
            }
        }
        return v[(count - 1) / 2];
    }

    /// Any 0..16 scores (of 16 slots): the lower median, and the first `count` values sorted in place.
    function testFuzz_lowerMedian(uint16[16] memory raw, uint8 c) public pure {
        uint256 count = bound(c, 0, 16);
        uint256[] memory a = new uint256[](16);
        uint256[] memory b = new uint256[](16);
        for (uint256 i = 0; i < 16; ++i) (a[i], b[i]) = (raw[i], raw[i]);
        assertEq(Median.lowerMedian(a, count), sortedMedian(b, count), "lower median");
        for (uint256 i = 0; i < count; ++i) assertEq(a[i], b[i], "sorted in place");
        for (uint256 i = count; i < 16; ++i) assertEq(a[i], raw[i], "the rest untouched");
    }

    /// A count past the array is capped at its length.
    function test_countCappedAtLength() public pure {
        uint256[] memory a = new uint256[](3);
        (a[0], a[1], a[2]) = (9, 1, 5);
        assertEq(Median.lowerMedian(a, 7), 5, "median of the three");
        assertEq(Median.lowerMedian(new uint256[](0), 1), 0, "empty");
    }
}
