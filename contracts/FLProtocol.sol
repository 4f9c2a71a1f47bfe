// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLCommittee} from "./FLCommittee.sol";
import {FLParams} from "./FLParams.sol";
import {Bits} from "./libraries/Bits.sol";
import {CidBytes} from "./libraries/CidBytes.sol";
import {Median} from "./libraries/Median.sol";

/**
 * @title FLProtocol
 * @notice Rounds of federated learning with a proof-of-quality committee.
 *
 * Round r runs Submit -> Commit -> Reveal -> Closed, then `finalizeRound(r)`
 * scores every update (median of revealed scores), rewards, slashes and opens
 * round r + 1 with a freshly drawn committee, unless r was the task's last
 * round. Every phase ends by time, and early once everybody expected has
 * acted. The aggregate of the accepted updates is certified afterwards by the
 * attestations of the round's committee.
 *
 * Storage is laid out for cheap submissions: the full CID only goes to the
 * event log; per update one word `(client, samples, cid tag)` is written into
 * a ring of slots pre-initialised at deployment, so every write during a
 * round is non-zero -> non-zero. See docs/protocol.md.
 *
 * Built on {FLParams} (task parameters), {FLRegistry} (clients, miners, bonds,
 * reputation) and {FLCommittee} (committee draw, seats, settlement, certification).
 */
contract FLProtocol is FLCommittee {
    using CidBytes for bytes;

    /// One slot per round.
    struct Round {
        uint40 openedAt;
        uint40 submitClosedAt;
        uint40 commitClosedAt;
        uint40 revealClosedAt;
        uint16 expectedSubmissions;
        uint16 numSubmissions;
        uint8 committeeSize;
        uint16 committedMask;
        uint16 revealedMask;
        uint16 numAccepted;
        bool finalized;
    }

    uint256 private _currentRound;
    mapping(uint256 round => Round) private _rounds;

    /// Current round's updates, reused every round (pre-initialised non-zero).
    uint256[MAX_UPDATES] private _updates;


    /// @param p Task parameters; fixed for the contract's lifetime.
    /// @param tokenName Name of the reward token this contract creates (and alone mints).
    /// @param tokenSymbol Symbol of the reward token.
    constructor(
        TaskParams memory p,
        string memory tokenName,
        string memory tokenSymbol
    ) FLParams(p, tokenName, tokenSymbol) FLCommittee(p) {
        // Pre-initialise the reused slots so in-round writes are non-zero -> non-zero.
        for (uint256 i = 0; i < p.maxUpdatesPerRound; ++i) _updates[i] = 1;
    }

    // =========================================================================
    // Rounds
    // =========================================================================

    /// @notice Opens round 0 and draws its committee. Admin only, once.
    function startTraining() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_rounds[0].openedAt != 0) revert TrainingAlreadyStarted();
        _openRound(0);
    }

    /// @notice Submits the caller's update for `round`: its binary CID and the number of training samples.
    /// @param round The current round, in its submit phase.
    /// @param cid Binary CID (CIDv0 or CIDv1 raw/dag-pb, sha2-256).
    /// @param numSamples Training samples behind the update, 1..2^32-1.
    function submitUpdate(uint256 round, bytes calldata cid, uint256 numSamples) external {
        _inTask(round);
        Client storage c = _clients[msg.sender];
        if (c.status != Status.Active) revert NotClient(msg.sender);
        Round storage rd = _rounds[round];
        Phase phase = _phase(rd);
        if (phase != Phase.Submit) revert NotInPhase(round, Phase.Submit, phase);
        if (c.roundPlusOne == round + 1) revert AlreadySubmitted(round, msg.sender);
        if (!cid.isValid()) revert InvalidCid(cid);
        if (numSamples == 0) revert ZeroSamples();
        if (numSamples > type(uint32).max) revert TooManySamples(numSamples, type(uint32).max);
        // Never full: numSubmissions < expectedSubmissions <= maxUpdatesPerRound here
        // (registration keeps expected within the round's slots).
        uint256 index = rd.numSubmissions;

        _updates[index] =
            uint256(uint160(msg.sender)) |
            (numSamples << 160) |
            (uint256(uint64(bytes8(keccak256(cid)))) << 192);
        c.roundPlusOne = uint32(round + 1);
        rd.numSubmissions = uint16(index + 1);
        if (index + 1 >= rd.expectedSubmissions) rd.submitClosedAt = uint40(block.timestamp);
        emit UpdateSubmitted(round, msg.sender, index, cid, numSamples);
    }

    /// @notice Commits the caller's hidden scores for `round` (see `voteCommitment`). Committee members only.
    /// @param round The current round, in its commit phase.
    /// @param commitment `voteCommitment(round, msg.sender, scores, salt)`.
    function commitVotes(uint256 round, bytes32 commitment) external {
        (Round storage rd, uint256 seat, uint16 bit) = _voter(round, Phase.Commit);
        if (rd.committedMask & bit != 0) revert AlreadyCommitted(round, msg.sender);
        if (commitment == bytes32(0)) revert EmptyCommitment();
        _commitments[seat] = commitment;
        uint16 mask = rd.committedMask | bit;
        rd.committedMask = mask;
        if (mask == (1 << rd.committeeSize) - 1) rd.commitClosedAt = uint40(block.timestamp);
        emit VotesCommitted(round, msg.sender, commitment);
    }

    /// @notice Reveals the caller's scores for `round`: one score 0..10000 per update, in submission order.
    /// The salt is also folded into the next round's committee seed.
    /// @param round The current round, in its reveal phase.
    /// @param scores One score per submitted update (0 = reject).
    /// @param salt The salt used in the commitment.
    function revealVotes(uint256 round, uint16[] calldata scores, bytes32 salt) external {
        (Round storage rd, uint256 seat, uint16 bit) = _voter(round, Phase.Reveal);
        if (rd.committedMask & bit == 0) revert NotCommitted(round, msg.sender);
        if (rd.revealedMask & bit != 0) revert AlreadyRevealed(round, msg.sender);
        uint256 n = rd.numSubmissions;
        if (scores.length != n) revert WrongScoreCount(scores.length, n);
        if (_voteCommitment(round, msg.sender, scores, salt) != _commitments[seat]) {
            revert CommitmentMismatch(round, msg.sender);
        }
        for (uint256 chunk = 0; chunk * 16 < n; ++chunk) {
            uint256 word;
            for (uint256 j = 0; j < 16 && chunk * 16 + j < n; ++j) {
                uint256 s = scores[chunk * 16 + j];
                if (s > MAX_SCORE) revert ScoreOutOfRange(chunk * 16 + j, s);
                word |= s << (16 * j);
            }
            _scores[seat][chunk] = word;
        }
        _commitments[seat] = salt; // the commitment is spent; the salt seeds the next draw
        uint16 mask = rd.revealedMask | bit;
        rd.revealedMask = mask;
        if (mask == rd.committedMask) rd.revealClosedAt = uint40(block.timestamp);
        emit VotesRevealed(round, msg.sender, scores, salt);
    }

    /// @notice Closes `round`: scores every update, credits rewards (claimable through `claim`),
    /// updates reputations, slashes, emits the accepted set and opens the next round (or, after
    /// the last round, finishes the task). Anyone may call once the round is `Closed`.
    /// @param round The current round.
    function finalizeRound(uint256 round) external {
        _inTask(round);
        Round storage rd = _rounds[round];
        if (rd.finalized) revert RoundAlreadyFinalized(round);
        Phase phase = _phase(rd);
        if (phase != Phase.Closed) revert NotInPhase(round, Phase.Closed, phase);

        uint256 n = rd.numSubmissions;
        uint256 k = rd.committeeSize;
        uint256 revealed = rd.revealedMask;
        uint256 numReveals = Bits.popcount(revealed);
        bool decided = numReveals >= _quorum;
        (uint256 acceptedMask, uint256[] memory medians) = _scoreUpdates(round, n, k, revealed, decided);
        uint256 numAccepted = Bits.popcount(acceptedMask);
        rd.finalized = true;
        rd.numAccepted = uint16(numAccepted);
        _advanceSeed(round, k, revealed);
        uint256 credited;
        if (decided) credited = _settleClients(round, n, acceptedMask, medians);
        if (n > 0) credited += _settleCommittee(round, n, k, revealed, decided, acceptedMask);
        if (credited != 0) _addCredited(credited);

        uint256[] memory accepted = new uint256[](numAccepted);
        uint256 a;
        for (uint256 i = 0; i < n; ++i) {
            if (acceptedMask & (1 << i) != 0) accepted[a++] = i;
        }
        emit RoundFinalized(round, accepted, n, numReveals);
        if (round + 1 < _numRounds) _openRound(round + 1);
        else emit TrainingFinished(_numRounds);
    }

    // =========================================================================
    // Views
    // =========================================================================

    /// @notice True once round 0 has been opened.
    function trainingStarted() external view returns (bool) {
        return _trainingStarted();
    }

    /// @notice True once the task's last round (`rounds - 1`) is finalized: no round opens any more.
    function taskFinished() external view returns (bool) {
        return _rounds[_numRounds - 1].finalized;
    }

    /// @notice The round currently open (0 before training starts; the last round once finished).
    function currentRound() external view returns (uint256) {
        return _currentRound;
    }

    /// @notice The phase `round` is in at the current block time.
    function currentPhase(uint256 round) external view returns (Phase) {
        return _phase(_rounds[round]);
    }

    /// @notice Everything a client or miner polls about `round`, in one call.
    function roundInfo(uint256 round) external view returns (RoundInfo memory info) {
        Round storage rd = _rounds[round];
        (uint256 s, uint256 c, uint256 v) = _phaseEnds(rd);
        info.phase = _phase(rd);
        info.openedAt = rd.openedAt;
        info.submitEnd = uint64(s);
        info.commitEnd = uint64(c);
        info.revealEnd = uint64(v);
        info.expectedSubmissions = rd.expectedSubmissions;
        info.numSubmissions = rd.numSubmissions;
        info.committeeSize = rd.committeeSize;
        info.numCommits = uint8(Bits.popcount(rd.committedMask));
        info.numReveals = uint8(Bits.popcount(rd.revealedMask));
        info.numAccepted = rd.numAccepted;
        info.certified = _certified[round].length != 0;
    }

    /// @notice The current round's stored record of submission `index`.
    /// @return client Submitter. @return numSamples Samples. @return cidTag First 8 bytes of keccak256(cid).
    function submissionRecord(
        uint256 index
    ) external view returns (address client, uint256 numSamples, bytes8 cidTag) {
        if (index >= _rounds[_currentRound].numSubmissions) return (address(0), 0, bytes8(0));
        uint256 word = _updates[index];
        return (address(uint160(word)), uint32(word >> 160), bytes8(uint64(word >> 192)));
    }

    // =========================================================================
    // Internals
    // =========================================================================

    function _phaseEnds(Round storage rd) private view returns (uint256 s, uint256 c, uint256 v) {
        s = rd.submitClosedAt != 0 ? rd.submitClosedAt : uint256(rd.openedAt) + _submitDuration;
        if (rd.commitClosedAt != 0) c = rd.commitClosedAt;
        else if (rd.numSubmissions == 0 || rd.committeeSize == 0) c = s;
        else c = s + _commitDuration;
        if (rd.revealClosedAt != 0) v = rd.revealClosedAt;
        else if (rd.committedMask == 0 && block.timestamp >= c) v = c;
        else v = c + _revealDuration;
    }

    /// @dev The caller as a voter of `round`, which must be in `expected`: the round, the
    /// caller's committee seat and that seat's bit in the round's masks.
    function _voter(
        uint256 round,
        Phase expected
    ) private view returns (Round storage rd, uint256 seat, uint16 bit) {
        _inTask(round);
        rd = _rounds[round];
        Phase phase = _phase(rd);
        if (phase != expected) revert NotInPhase(round, expected, phase);
        seat = _seatOf(msg.sender, round);
        bit = uint16(1 << seat);
    }

    function _phase(Round storage rd) private view returns (Phase) {
        if (rd.openedAt == 0) return Phase.NotOpened;
        if (rd.finalized) return Phase.Finalized;
        (uint256 s, uint256 c, uint256 v) = _phaseEnds(rd);
        if (block.timestamp < s) return Phase.Submit;
        if (block.timestamp < c) return Phase.Commit;
        if (block.timestamp < v) return Phase.Reveal;
        return Phase.Closed;
    }

    function _openRound(uint256 round) private {
        _currentRound = round;
        uint256 expected = _activeClients; // <= maxUpdatesPerRound (see registerClient)
        (address[] memory members, bytes32 seed) = _drawCommittee(round);
        _rounds[round] = Round({
            openedAt: uint40(block.timestamp),
            submitClosedAt: 0,
            commitClosedAt: 0,
            revealClosedAt: 0,
            expectedSubmissions: uint16(expected),
            numSubmissions: 0,
            committeeSize: uint8(members.length),
            committedMask: 0,
            revealedMask: 0,
            numAccepted: 0,
            finalized: false
        });
        emit RoundOpened(round, block.timestamp, expected);
        emit CommitteeDrawn(round, members, seed);
    }

    /// Median of the revealed scores per update, and whether it is accepted.
    function _scoreUpdates(
        uint256 round,
        uint256 n,
        uint256 k,
        uint256 revealed,
        bool decided
    ) private returns (uint256 acceptedMask, uint256[] memory medians) {
        medians = new uint256[](n);
        uint256[] memory buf = new uint256[](k);
        for (uint256 i = 0; i < n; ++i) {
            uint256 cnt;
            for (uint256 s = 0; s < k; ++s) {
                if (revealed & (1 << s) == 0) continue;
                buf[cnt++] = (_scores[s][i >> 4] >> (16 * (i & 15))) & 0xFFFF;
            }
            uint256 median = Median.lowerMedian(buf, cnt);
            bool accepted = decided && median >= _threshold;
            medians[i] = median;
            if (accepted) acceptedMask |= 1 << i;
            emit UpdateScored(round, i, address(uint160(_updates[i])), median, cnt, accepted);
        }
    }

    /// Per decided update: its client's reputation, and its share of `clientRewardPerRound`,
    /// credited in proportion to its median score (the committee's measure of contribution). A
    /// claimed sample count earns nothing: it is a claim, bounded only where it weighs in
    /// aggregation. Returns the total credited.
    function _settleClients(
        uint256 round,
        uint256 n,
        uint256 acceptedMask,
        uint256[] memory medians
    ) private returns (uint256 credited) {
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            if (acceptedMask & (1 << i) != 0) total += medians[i];
        }
        for (uint256 i = 0; i < n; ++i) {
            bool accepted = acceptedMask & (1 << i) != 0;
            uint256 amount = accepted ? (_clientReward * medians[i]) / total : 0;
            _settleClient(round, address(uint160(_updates[i])), accepted, amount);
            credited += amount;
        }
    }

    // =========================================================================
    // Hooks of FLRegistry and FLCommittee
    // =========================================================================

    /// @dev See {FLRegistry-_expectOneMore}.
    function _expectOneMore(bool more) internal override {
        Round storage rd = _rounds[_currentRound];
        if (_phase(rd) != Phase.Submit) return;
        uint256 expected = rd.expectedSubmissions;
        if (more) {
            if (expected >= _maxUpdates) revert ClientSlotsFull(_maxUpdates);
            rd.expectedSubmissions = uint16(expected + 1);
        } else if (expected > 0) {
            rd.expectedSubmissions = uint16(expected - 1);
            if (rd.numSubmissions >= expected - 1) rd.submitClosedAt = uint40(block.timestamp);
        }
    }

    function _openRoundId() internal view override returns (uint256) {
        return _currentRound;
    }

    function _trainingStarted() internal view override returns (bool) {
        return _rounds[0].openedAt != 0;
    }

    function _isFinalized(uint256 round) internal view override returns (bool) {
        return _rounds[round].finalized;
    }

    function _currentCommitteeSize() internal view override returns (uint256) {
        return _rounds[_currentRound].committeeSize;
    }
}
