// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLCommittee} from "./FLCommittee.sol";
import {Outcome} from "./libraries/Outcome.sol";
import {Scoring} from "./libraries/Scoring.sol";

/**
 * @title FLScoring
 * @notice The outcome of every round's updates: the scoring pass of a paged finalization,
 * and the stored outcomes clients are settled from.
 *
 * Finalizing a round takes N steps, one per update, done by as many `finalizeRound` calls as
 * it takes, each at most `FINALIZE_PAGE` steps: per update the lower median of the revealed
 * scores and, when the reveals reach the quorum, its acceptance; every revealing seat's
 * agreement with the outcome is counted (16 bits per seat, one word); one `UpdatesScored`
 * event per page. The medians are stored per round, 16 per word, with the round's outcome
 * (decided, sum of the accepted medians): no client record is written at finalization.
 * Each client is settled from them in its own next transaction (see {FLRegistry-_settlement}).
 */
abstract contract FLScoring is FLCommittee {
    /// Lower median of each update, 16 per word, per round.
    mapping(uint256 round => uint256[MAX_UPDATES / 16]) private _medians;
    /// Per finalized round, its `Outcome` word.
    mapping(uint256 round => uint256) private _outcomes;
    /// Per seat (16 bits each), updates on which the seat's score was on the outcome's side.
    uint256 internal _agreed;

    /// Where the current round's paged finalization is (one slot: only the current round finalizes).
    struct Progress {
        uint32 roundPlusOne; // the round these steps belong to, plus one
        uint16 cursor; // updates scored
        uint16 numAccepted; // of them, accepted
        uint32 medianTotal; // sum of the medians of the updates accepted so far (< 4096 * 10000)
    }

    Progress private _progress;

    /// @dev Scores the next page of `round`'s `n` updates (at most `_finalizePage()` of them; none
    /// left when `n` is 0). Once all are scored, records the round's `Outcome` word, grants the
    /// client reward when any update was accepted (split among them as each client is
    /// settled), and returns true with that word.
    function _scoreNextPage(
        uint256 round,
        uint256 n,
        uint256 k,
        uint256 revealed,
        bool decided
    ) internal returns (bool scored, uint256 outcome) {
        Progress memory p = _progressOf(round);
        if (p.cursor < n) {
            uint256 budget = _finalizePage();
            uint256 count = n - p.cursor < budget ? n - p.cursor : budget;
            (uint256 accepted, uint256 total) = _scorePage(round, p.cursor, count, k, revealed, decided);
            p.numAccepted += uint16(accepted);
            p.medianTotal += uint32(total);
            p.cursor += uint16(count);
            _progress = p;
            if (p.cursor < n) return (false, 0);
        }
        if (p.medianTotal != 0 && _clientReward != 0) _addCredited(_clientReward);
        outcome = Outcome.pack(decided, p.medianTotal, p.numAccepted);
        _outcomes[round] = outcome;
        return (true, outcome);
    }

    /// @dev How far `round`'s paged finalization is (all zero before it starts, and for any round
    /// but the one finalizing last).
    function _progressOf(uint256 round) internal view returns (Progress memory p) {
        p = _progress;
        if (p.roundPlusOne != round + 1) p = Progress(uint32(round + 1), 0, 0, 0);
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

    /// @dev Scores updates `first .. first + count - 1` of `round` from the seats in `revealed`
    /// ({Scoring-scorePage}): stores their medians, adds to the seats' agreement counts (when
    /// `decided`) and emits the page's outcomes. Returns how many were accepted and the sum of
    /// their medians.
    function _scorePage(
        uint256 round,
        uint256 first,
        uint256 count,
        uint256 k,
        uint256 revealed,
        bool decided
    ) private returns (uint256 numAccepted, uint256 medianTotal) {
        uint256 agreed = decided && first != 0 ? _agreed : 0;
        (numAccepted, medianTotal, agreed) = Scoring.scorePage(
            _scores,
            _medians[round],
            Scoring.Page(round, first, count, k, revealed, decided, _threshold, agreed)
        );
        if (decided) _agreed = agreed;
    }

    /// @dev See {FLRegistry-_outcomeOf}.
    function _outcomeOf(uint256 round) internal view override returns (uint256) {
        return _outcomes[round];
    }

    /// @dev See {FLRegistry-_medianOf}.
    function _medianOf(uint256 round, uint256 index) internal view override returns (uint256) {
        return (_medians[round][index >> 4] >> ((index & 15) << 4)) & 0xFFFF;
    }

    /// @dev Steps one `finalizeRound` call takes at most (a test harness may take fewer).
    function _finalizePage() internal pure virtual returns (uint256) {
        return FINALIZE_PAGE;
    }
}
