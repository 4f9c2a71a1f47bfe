// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {Bits} from "./Bits.sol";
import {Median} from "./Median.sol";

/**
 * @title Scoring
 * @notice One page of a round's scoring: per update the lower median of the revealed scores,
 * its acceptance, and every revealing seat's agreement with it.
 *
 * A linked library (deployed once, reached by DELEGATECALL from `finalizeRound`), so that its
 * code does not count against the protocol's 24 kB: a page costs one call more, whatever its
 * size. Scores are 16 bits each, 16 updates per word (lowest bits first), one ring of words
 * per committee seat; medians are stored the same way, per round.
 */
library Scoring {
    /// Updates per score or median word.
    uint256 internal constant PER_WORD = 16;

    /// What one page scores.
    struct Page {
        uint256 round;
        uint256 first; // index of its first update
        uint256 count; // number of updates
        uint256 k; // committee seats
        uint256 revealed; // bit s: seat s revealed
        bool decided; // the reveals reached the quorum: acceptance and agreement count
        uint256 threshold; // lowest accepted median
        uint256 agreed; // agreement counts so far, 16 bits per seat
    }

    /// What it found.
    struct Result {
        uint256 numAccepted;
        uint256 medianTotal; // sum of the accepted updates' medians
        uint256 agreed; // agreement counts after the page
        uint256 acceptedBits; // bit j: update first + j accepted
        uint256[] medians; // the page's medians, 16 per word
    }

    /// Working memory.
    struct Seats {
        uint256[] seat; // the revealing seats, in seat order
        uint256[] unit; // each one's agreement unit `1 << (16 * seat)`
        uint256[] word; // each one's score word of the current 16 updates
        uint256[] buf; // the update's scores, sorted for the median
        uint256 allUnits; // the sum of `unit`
    }

    /// @notice Scores `pg` from the seats' score words `scores`, stores the medians in `medians`
    /// and emits the page's `UpdatesScored` (from the protocol: this runs in its context).
    /// @return numAccepted Updates accepted.
    /// @return medianTotal The sum of their medians.
    /// @return agreed The agreement counts after the page.
    function scorePage(
        uint256[256][16] storage scores,
        uint256[256] storage medians,
        Page calldata pg
    ) external returns (uint256 numAccepted, uint256 medianTotal, uint256 agreed) {
        Seats memory s = _seats(pg.k, pg.revealed);
        Result memory res = _score(scores, medians, pg, s);
        emit IFLProtocol.UpdatesScored(pg.round, pg.first, pg.count, s.seat.length, res.acceptedBits, res.medians);
        return (res.numAccepted, res.medianTotal, res.agreed);
    }

    function _score(
        uint256[256][16] storage scores,
        uint256[256] storage medians,
        Page calldata pg,
        Seats memory s
    ) private returns (Result memory res) {
        uint256 r = s.seat.length;
        res.agreed = pg.agreed;
        res.medians = new uint256[]((pg.count + PER_WORD - 1) / PER_WORD);
        uint256 first = pg.first;
        uint256 word = first % PER_WORD != 0 ? medians[first / PER_WORD] : 0;
        unchecked {
            for (uint256 j = 0; j < pg.count; ++j) {
                uint256 i = first + j;
                uint256 shift = (i & 15) << 4;
                if (j == 0 || shift == 0) {
                    for (uint256 t = 0; t < r; ++t) s.word[t] = scores[s.seat[t]][i >> 4];
                }
                uint256 aboveUnits = _scoresOf(s, shift, pg.threshold);
                uint256 median = Median.lowerMedian(s.buf, r);
                if (pg.decided) {
                    if (median >= pg.threshold) {
                        res.acceptedBits |= 1 << j;
                        ++res.numAccepted;
                        res.medianTotal += median;
                        res.agreed += aboveUnits;
                    } else {
                        res.agreed += s.allUnits - aboveUnits;
                    }
                }
                res.medians[j >> 4] |= median << ((j & 15) << 4);
                word |= median << shift;
                if (shift == 240 || j + 1 == pg.count) {
                    medians[i >> 4] = word;
                    word = 0;
                }
            }
        }
    }

    /// @dev The working memory for the seats in `revealed` (of `k`).
    function _seats(uint256 k, uint256 revealed) private pure returns (Seats memory s) {
        uint256 r = Bits.popcount(revealed);
        s.seat = new uint256[](r);
        s.unit = new uint256[](r);
        s.word = new uint256[](r);
        s.buf = new uint256[](r);
        uint256 t = 0;
        for (uint256 seat = 0; seat < k; ++seat) {
            if (revealed & (1 << seat) == 0) continue;
            s.seat[t] = seat;
            s.unit[t] = 1 << (16 * seat);
            s.allUnits += s.unit[t];
            ++t;
        }
    }

    /// @dev One update's scores (at bit `shift` of each seat's score word) into `s.buf`, and the
    /// sum of the units of the seats that scored it at least `threshold`.
    function _scoresOf(Seats memory s, uint256 shift, uint256 threshold) private pure returns (uint256 aboveUnits) {
        uint256[] memory words = s.word;
        uint256[] memory units = s.unit;
        uint256[] memory buf = s.buf;
        assembly ("memory-safe") {
            let end := shl(5, mload(words))
            for {
                let off := 0x20
            } iszero(gt(off, end)) {
                off := add(off, 0x20)
            } {
                let score := and(shr(shift, mload(add(words, off))), 0xffff)
                mstore(add(buf, off), score)
                if iszero(lt(score, threshold)) {
                    aboveUnits := add(aboveUnits, mload(add(units, off)))
                }
            }
        }
    }
}
