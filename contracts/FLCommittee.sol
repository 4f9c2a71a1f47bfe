// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLRegistry} from "./FLRegistry.sol";
import {Bits} from "./libraries/Bits.sol";
import {CidBytes} from "./libraries/CidBytes.sol";

/**
 * @title FLCommittee
 * @notice The proof-of-quality committee of each round: a reputation-weighted
 * draw of miners, their seats, hidden then revealed scores, and the settlement
 * (reward by agreement with the outcome, slash for absence), and the
 * certification of each round's aggregate by its committee.
 *
 * The draw's seed uses no block data, so the timing of the transaction that
 * opens a round chooses nothing: round 0's seed is fixed at deployment from
 * the chain id, this contract's address and the task parameters; round r+1's
 * is keccak256(abi.encodePacked(seed(r), r, salts)), where `salts` are the
 * salts revealed by r's committee, in seat order. Each salt was committed
 * inside the member's vote commitment before anyone revealed.
 *
 * Seats, commitments and scores are rings reused every round and made
 * non-zero before training (seats and commitments at deployment, scores with
 * the update slots, see `prepareSlots`), so every write during a round is
 * non-zero -> non-zero. A miner's seat is recorded in its own slot, for the
 * last even and the last odd round.
 */
abstract contract FLCommittee is FLRegistry {
    using CidBytes for bytes;

    /// Current round's committee, by seat (pre-initialised non-zero).
    address[MAX_COMMITTEE] private _seats;
    /// Per seat: the vote commitment, replaced by the revealed salt once the member reveals.
    bytes32[MAX_COMMITTEE] internal _commitments;
    uint256[MAX_UPDATES / 16][MAX_COMMITTEE] internal _scores;
    /// Seed of the current round's committee draw (and client sample).
    bytes32 internal _seed;

    mapping(uint256 round => bytes) internal _certified;
    mapping(uint256 round => mapping(address account => bytes32)) private _attestation;
    mapping(uint256 round => mapping(bytes32 cidHash => uint256)) private _attestCount;

    /// @param p Task parameters: they fix round 0's seed and the seats to pre-initialise.
    constructor(TaskParams memory p) {
        _seed = keccak256(abi.encode(block.chainid, address(this), p));
        for (uint256 s = 0; s < p.committeeSize; ++s) {
            _seats[s] = address(1);
            _commitments[s] = bytes32(uint256(1));
        }
    }

    /// @dev Makes the score words `fromChunk .. toChunk - 1` (16 updates each) of every seat non-zero.
    function _prewarmScores(uint256 fromChunk, uint256 toChunk) internal {
        for (uint256 s = 0; s < _committeeSize; ++s) {
            for (uint256 c = fromChunk; c < toChunk; ++c) _scores[s][c] = 1;
        }
    }

    /// @notice Attests the CID of the aggregate of `round`'s accepted updates. Only members of
    /// `round`'s committee (bonded, slashable) attest; `quorum` agreeing attestations certify.
    /// Open while `round` is the previous round (or the last round of a finished task).
    /// @param round A finalized round, the one before the current round.
    /// @param cid Binary CID of the aggregate model.
    function certifyAggregate(uint256 round, bytes calldata cid) external {
        _inTask(round);
        if (!_isFinalized(round)) revert RoundNotFinalized(round);
        uint256 current = _openRoundId();
        if (round + 1 < current) revert CertificationClosed(round, current);
        if (!cid.isValid()) revert InvalidCid(cid);
        if (!_hasSeat(_minerOf[msg.sender], round)) revert NotAttester(round, msg.sender);
        if (_attestation[round][msg.sender] != bytes32(0)) revert AlreadyAttested(round, msg.sender);
        bytes32 h = keccak256(cid);
        _attestation[round][msg.sender] = h;
        emit AggregateAttested(round, msg.sender, h, cid);

        bytes storage certified = _certified[round];
        if (certified.length != 0) {
            if (keccak256(certified) != h) emit AggregateDisputed(round, msg.sender, cid, certified);
            return;
        }
        if (++_attestCount[round][h] >= _quorum) {
            _certified[round] = cid;
            emit AggregateCertified(round, h, cid);
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

    /// @notice The certified aggregate CID of `round` (empty until certified).
    function certifiedAggregate(uint256 round) external view returns (bytes memory) {
        return _certified[round];
    }

    /// @notice keccak256 of the CID `account` attested for `round` (zero if none).
    function attestationOf(uint256 round, address account) external view returns (bytes32) {
        return _attestation[round][account];
    }

    /// @notice Number of attestations (by committee members) of `cidHash` for `round`.
    function attestationCount(uint256 round, bytes32 cidHash) external view returns (uint256) {
        return _attestCount[round][cidHash];
    }

    /// @dev `_voteCommitment(round, msg.sender, scores, salt)` hashed straight from calldata: the
    /// same `abi.encode` layout (six head words, the array's offset 0xc0, its length, one word per
    /// score), without decoding and re-encoding every score. Scores that are not clean uint16 words
    /// hash differently from the view's, and `revealVotes` reverts on reading them anyway.
    function _calldataCommitment(
        uint256 round,
        uint16[] calldata scores,
        bytes32 salt
    ) internal view returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let bytesLen := shl(5, scores.length)
            mstore(ptr, chainid())
            mstore(add(ptr, 0x20), address())
            mstore(add(ptr, 0x40), round)
            mstore(add(ptr, 0x60), caller())
            mstore(add(ptr, 0x80), 0xc0)
            mstore(add(ptr, 0xa0), salt)
            mstore(add(ptr, 0xc0), scores.length)
            calldatacopy(add(ptr, 0xe0), scores.offset, bytesLen)
            h := keccak256(ptr, add(0xe0, bytesLen))
        }
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

    /// Reputation-weighted sampling without replacement, from the current seed.
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
        seed = _seed;
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

    /// Folds the salts revealed in `round` (kept in the commitment ring, seat order) into the seed.
    function _advanceSeed(uint256 round, uint256 k, uint256 revealed) internal {
        bytes32[] memory salts = new bytes32[](Bits.popcount(revealed));
        uint256 j;
        for (uint256 s = 0; s < k; ++s) {
            if (revealed & (1 << s) != 0) salts[j++] = _commitments[s];
        }
        _seed = keccak256(abi.encodePacked(_seed, round, salts));
    }

    /// Credits revealers in proportion to their agreement with the outcome (`agreed`: 16 bits per
    /// seat, counted while scoring); slashes members who did not commit or did not reveal.
    /// Returns the total credited.
    function _settleCommittee(
        uint256 round,
        uint256 n,
        uint256 k,
        uint256 revealed,
        bool decided,
        uint256 agreed
    ) internal returns (uint256 credited) {
        for (uint256 s = 0; s < k; ++s) {
            address miner = _seats[s];
            Miner storage m = _minerOf[miner];
            if (revealed & (1 << s) != 0) {
                if (!decided) continue;
                uint256 seatAgreed = (agreed >> (16 * s)) & 0xFFFF;
                uint32 old = m.reputation;
                uint32 rep;
                if (seatAgreed * 2 >= n) rep = old + MINER_GAIN > MAX_REPUTATION ? MAX_REPUTATION : old + MINER_GAIN;
                else rep = old > MINER_LOSS ? old - MINER_LOSS : 1;
                m.reputation = rep;
                emit ReputationChanged(miner, round, old, rep);
                uint256 amount = (_minerReward * seatAgreed) / (n * k);
                if (amount != 0) {
                    _creditMiner(round, miner, amount);
                    credited += amount;
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
