// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLCommittee} from "./FLCommittee.sol";
import {Median} from "./libraries/Median.sol";

/**
 * @title FLScoring
 * @notice The current round's updates, and the two passes of a paged finalization over them.
 *
 * Per update one word `client | samples | cid tag` is kept in a ring reused
 * every round. Finalizing a round takes `2 * N` steps when its reveals reach the
 * quorum (else `N`), done by as many `finalizeRound` calls as it takes, each at
 * most `FINALIZE_PAGE` steps:
 *
 * 1. scoring (steps 0 .. N-1): per update the lower median of the revealed
 *    scores and its acceptance; the medians are kept, 16 per word, and every
 *    revealing seat's agreement with the outcome is counted (16 bits per seat,
 *    one word); one `UpdatesScored` event per page;
 * 2. settling clients (steps N .. 2N-1, decided rounds only): per update its
 *    client's reputation, and its share of `clientRewardPerRound`, in
 *    proportion to its median over the sum of the accepted medians (known once
 *    the first pass is over).
 *
 * The ring words are made non-zero before training, a page at a time
 * (`prepareSlots`), so every write during a round is non-zero -> non-zero.
 */
abstract contract FLScoring is FLCommittee {
    /// Current round's updates, by index.
    uint256[MAX_UPDATES] internal _updates;
    /// Lower median of each of the current round's updates, 16 per word.
    uint256[MAX_UPDATES / 16] private _medians;
    /// Per seat (16 bits each), updates on which the seat's score was on the outcome's side.
    uint256 internal _agreed;

    /// @dev Makes update slots `from .. to - 1` non-zero (`from` a multiple of 16), with their
    /// median and score words.
    function _prewarmSlots(uint256 from, uint256 to) internal {
        for (uint256 i = from; i < to; ++i) _updates[i] = 1;
        uint256 toChunk = (to + 15) / 16;
        for (uint256 c = from / 16; c < toChunk; ++c) _medians[c] = 1;
        _prewarmScores(from / 16, toChunk);
    }

    /// @dev The scores, 16 bits each, 16 per word (lowest first), read word by word from calldata;
    /// reverts `ScoreOutOfRange(index, word)` at the first word above `MAX_SCORE` (so also at a word
    /// that is not a clean uint16). One pass in assembly: the checked loop costs about 1 k gas a score.
    function _packScores(uint16[] calldata scores) internal pure returns (uint256[] memory packed) {
        uint256 n = scores.length;
        packed = new uint256[]((n + 15) / 16);
        uint256 max = MAX_SCORE;
        uint256 bad = n;
        uint256 badScore;
        assembly ("memory-safe") {
            let out := add(packed, 0x20)
            for {
                let i := 0
            } lt(i, n) {
                i := add(i, 1)
            } {
                let score := calldataload(add(scores.offset, shl(5, i)))
                if gt(score, max) {
                    bad := i
                    badScore := score
                    break
                }
                let w := add(out, shl(5, shr(4, i)))
                mstore(w, or(mload(w), shl(shl(4, and(i, 15)), score)))
            }
        }
        if (bad != n) revert ScoreOutOfRange(bad, badScore);
    }

    /// Working memory of one scoring page.
    struct Page {
        uint256[] seen; // the update's score by seat
        uint256[] buf; // its revealed scores, for the median
        uint256[] packed; // the page's medians, 16 per word
        uint256 acceptedBits;
        uint256 agreed;
        uint256 word; // the medians word being filled
        uint256 reveals;
    }

    /// @dev Scores updates `first .. first + count - 1` of `round` from the seats in `revealed`:
    /// stores their medians, adds to the seats' agreement counts (when `decided`) and emits the
    /// page's outcomes. Returns how many were accepted and the sum of their medians.
    function _scorePage(
        uint256 round,
        uint256 first,
        uint256 count,
        uint256 k,
        uint256 revealed,
        bool decided
    ) internal returns (uint256 numAccepted, uint256 medianTotal) {
        Page memory pg = Page(new uint256[](k), new uint256[](k), new uint256[]((count + 15) / 16), 0, 0, 0, 0);
        if (first != 0) pg.agreed = _agreed;
        if (first & 15 != 0) pg.word = _medians[first >> 4] & ((1 << (16 * (first & 15))) - 1);
        for (uint256 j = 0; j < count; ++j) {
            uint256 i = first + j;
            uint256 median = _median(i, k, revealed, pg);
            bool accepted = decided && median >= _threshold;
            if (accepted) {
                pg.acceptedBits |= 1 << j;
                ++numAccepted;
                medianTotal += median;
            }
            if (decided) _agree(pg, k, revealed, accepted);
            pg.packed[j >> 4] |= median << (16 * (j & 15));
            pg.word |= median << (16 * (i & 15));
            if (i & 15 == 15 || j + 1 == count) {
                _medians[i >> 4] = pg.word;
                pg.word = 0;
            }
        }
        if (decided) _agreed = pg.agreed;
        emit UpdatesScored(round, first, count, pg.reveals, pg.acceptedBits, pg.packed);
    }

    /// @dev Update `i`'s revealed scores (into `pg.seen`, by seat), their number and lower median.
    function _median(uint256 i, uint256 k, uint256 revealed, Page memory pg) private view returns (uint256) {
        uint256 reveals;
        for (uint256 s = 0; s < k; ++s) {
            if (revealed & (1 << s) == 0) continue;
            uint256 score = (_scores[s][i >> 4] >> (16 * (i & 15))) & 0xFFFF;
            pg.seen[s] = score;
            pg.buf[reveals++] = score;
        }
        pg.reveals = reveals;
        return Median.lowerMedian(pg.buf, reveals);
    }

    /// @dev One more agreement for every revealing seat whose score is on `accepted`'s side.
    function _agree(Page memory pg, uint256 k, uint256 revealed, bool accepted) private view {
        uint256 agreed = pg.agreed;
        for (uint256 s = 0; s < k; ++s) {
            if (revealed & (1 << s) != 0 && (pg.seen[s] >= _threshold) == accepted) agreed += 1 << (16 * s);
        }
        pg.agreed = agreed;
    }

    /// @dev Settles the clients of updates `first .. first + count - 1` of a decided `round`:
    /// reputation, and `clientRewardPerRound * median / medianTotal` credited to each accepted
    /// update's client. Returns the total credited.
    function _settleClientsPage(
        uint256 round,
        uint256 first,
        uint256 count,
        uint256 medianTotal
    ) internal returns (uint256 credited) {
        uint256 word;
        for (uint256 j = 0; j < count; ++j) {
            uint256 i = first + j;
            if (j == 0 || i & 15 == 0) word = _medians[i >> 4];
            uint256 median = (word >> (16 * (i & 15))) & 0xFFFF;
            bool accepted = median >= _threshold;
            uint256 amount = accepted ? (_clientReward * median) / medianTotal : 0;
            _settleClient(round, address(uint160(_updates[i])), accepted, amount);
            credited += amount;
        }
    }

    /// @dev Steps one `finalizeRound` call takes at most (a test harness may take fewer).
    function _finalizePage() internal pure virtual returns (uint256) {
        return FINALIZE_PAGE;
    }
}
