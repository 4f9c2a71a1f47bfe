// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLRegistry} from "./FLRegistry.sol";

/**
 * @title FLCommittee
 * @notice The proof-of-quality committee of each round: a reputation-weighted
 * draw of miners, their seats, hidden then revealed scores, and the settlement
 * (reward by agreement with the outcome, slash for absence).
 *
 * Seats, commitments and scores are rings reused every round and
 * pre-initialised to non-zero at deployment, so every write during a round is
 * non-zero -> non-zero. A miner's seat is recorded in its own slot, for the
 * last even and the last odd round.
 */
abstract contract FLCommittee is FLRegistry {
    /// Current round's committee, by seat (pre-initialised non-zero).
    address[MAX_COMMITTEE] private _seats;
    bytes32[MAX_COMMITTEE] internal _commitments;
    uint256[MAX_UPDATES / 16][MAX_COMMITTEE] internal _scores;

    /// @param committeeSize Seats to pre-initialise (the task's committee size).
    /// @param maxUpdates Updates per round, hence score words per seat to pre-initialise.
    constructor(uint256 committeeSize, uint256 maxUpdates) {
        uint256 chunks = (maxUpdates + 15) / 16;
        for (uint256 s = 0; s < committeeSize; ++s) {
            _seats[s] = address(1);
            _commitments[s] = bytes32(uint256(1));
            for (uint256 c = 0; c < chunks; ++c) _scores[s][c] = 1;
        }
    }

    /// @notice The committee of the current round, by seat.
    function committee() external view returns (address[] memory members) {
        uint256 k = _currentCommitteeSize();
        members = new address[](k);
        for (uint256 s = 0; s < k; ++s) members[s] = _seats[s];
    }

    /// @notice Whether `account` sits on `round`'s committee (known for the current and previous round).
    function isCommitteeMember(uint256 round, address account) external view returns (bool) {
        return _hasSeat(_minerOf[account], round);
    }

    /// @notice The commitment a miner posts: binds chain id, this contract, round, miner, scores and salt.
    function voteCommitment(
        uint256 round,
        address miner,
        uint16[] calldata scores,
        bytes32 salt
    ) external view returns (bytes32) {
        return _voteCommitment(round, miner, scores, salt);
    }

    function _voteCommitment(
        uint256 round,
        address miner,
        uint16[] calldata scores,
        bytes32 salt
    ) internal view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), round, miner, scores, salt));
    }

    function _hasSeat(Miner storage m, uint256 round) internal view returns (bool) {
        uint256 tag = round & 1 == 0 ? m.seatRoundPlusOne0 : m.seatRoundPlusOne1;
        return tag == round + 1;
    }

    function _seatOf(address account, uint256 round) internal view returns (uint256) {
        Miner storage m = _minerOf[account];
        if (!_hasSeat(m, round)) revert NotInCommittee(round, account);
        return round & 1 == 0 ? m.seat0 : m.seat1;
    }

    /// Reputation-weighted sampling without replacement, seeded from the previous block.
    function _drawCommittee(uint256 round) internal returns (address[] memory members, bytes32 seed) {
        uint256 m = _miners.length;
        uint256 k = _committeeSize < m ? _committeeSize : m;
        address[] memory pool = _miners;
        uint256[] memory weight = new uint256[](m);
        uint256 total;
        for (uint256 i = 0; i < m; ++i) {
            weight[i] = _minerOf[pool[i]].reputation;
            total += weight[i];
        }
        seed = keccak256(
            abi.encode(blockhash(block.number - 1), block.prevrandao, block.chainid, address(this), round)
        );
        members = new address[](k);
        for (uint256 j = 0; j < k; ++j) {
            uint256 x = uint256(keccak256(abi.encode(seed, j))) % total;
            uint256 i;
            while (x >= weight[i]) x -= weight[i++];
            members[j] = pool[i];
            total -= weight[i];
            weight[i] = 0;
            _seats[j] = pool[i];
            Miner storage mi = _minerOf[pool[i]];
            if (round & 1 == 0) {
                mi.seatRoundPlusOne0 = uint32(round + 1);
                mi.seat0 = uint8(j);
            } else {
                mi.seatRoundPlusOne1 = uint32(round + 1);
                mi.seat1 = uint8(j);
            }
        }
    }

    /// Rewards revealers in proportion to their agreement with the outcome; slashes
    /// members who did not commit or did not reveal.
    function _settleCommittee(
        uint256 round,
        uint256 n,
        uint256 k,
        uint256 revealed,
        bool decided,
        uint256 acceptedMask
    ) internal {
        for (uint256 s = 0; s < k; ++s) {
            address miner = _seats[s];
            Miner storage m = _minerOf[miner];
            if (revealed & (1 << s) != 0) {
                if (!decided) continue;
                uint256 agreed;
                for (uint256 i = 0; i < n; ++i) {
                    uint256 score = (_scores[s][i >> 4] >> (16 * (i & 15))) & 0xFFFF;
                    if ((score >= _threshold) == (acceptedMask & (1 << i) != 0)) ++agreed;
                }
                uint32 old = m.reputation;
                uint32 rep;
                if (agreed * 2 >= n) rep = old + MINER_GAIN > MAX_REPUTATION ? MAX_REPUTATION : old + MINER_GAIN;
                else rep = old > MINER_LOSS ? old - MINER_LOSS : 1;
                m.reputation = rep;
                emit ReputationChanged(miner, round, old, rep);
                uint256 amount = (_minerReward * agreed) / (n * k);
                if (amount != 0) {
                    _token.mint(miner, amount);
                    emit Rewarded(round, miner, amount);
                }
            } else {
                // Absent at commit or at reveal: slashed the same way.
                _slash(round, miner, m);
            }
        }
    }

    /// @dev Seats of the current round's committee (implemented by the round logic).
    function _currentCommitteeSize() internal view virtual returns (uint256);
}
