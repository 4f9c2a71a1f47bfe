// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title Outcome
 * @notice The outcome word of a finalized round, what its clients are settled from:
 * bit 0 whether it was decided (its reveals reached the quorum), bits 1..31 the sum of its
 * accepted updates' medians (at most 4096 * 10000 < 2^31), bits 64..79 how many were accepted.
 * Its low 32 bits (`decided` and `medianTotal`) are all settlement reads, which the next
 * round's slot keeps.
 */
library Outcome {
    function pack(bool decided, uint256 total, uint256 accepted) internal pure returns (uint256) {
        return (accepted << 64) | (total << 1) | (decided ? 1 : 0);
    }

    function isDecided(uint256 word) internal pure returns (bool) {
        return word & 1 != 0;
    }

    function medianTotal(uint256 word) internal pure returns (uint256) {
        return (word >> 1) & 0x7FFFFFFF;
    }

    function numAccepted(uint256 word) internal pure returns (uint256) {
        return (word >> 64) & 0xFFFF;
    }
}
