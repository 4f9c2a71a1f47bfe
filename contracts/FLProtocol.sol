// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLCommittee} from "./FLCommittee.sol";
import {FLParams} from "./FLParams.sol";
import {FLScoring} from "./FLScoring.sol";
import {Bits} from "./libraries/Bits.sol";
import {ClientSample} from "./libraries/ClientSample.sol";
import {Outcome} from "./libraries/Outcome.sol";
import {CidBytes} from "./libraries/CidBytes.sol";

/**
 * @title FLProtocol
 * @notice Rounds of federated learning with a proof-of-quality committee.
 *
 * Round r runs Submit -> Commit -> Reveal -> Closed, then `finalizeRound(r)`, called page by
 * page (at most `FINALIZE_PAGE` updates each, so no call's gas grows with the round), scores
 * every update (median of revealed scores) and stores the outcome, credits and slashes the
 * committee, and opens round r + 1 with a freshly drawn committee (and client sample),
 * unless r was the task's last round. Every phase ends by time, and early once everybody
 * expected has acted. The aggregate of the accepted updates is certified afterwards by the
 * attestations of the round's committee.
 *
 * Storage is laid out for cheap submissions: the CID only goes to the event log, and a
 * submission writes nothing but the round's counter and the client's own slot. A client is
 * settled (reputation, reward) lazily, in its own next transaction, from its round's stored
 * outcome. The committee's score words are a ring made non-zero before training
 * (`prepareSlots`), so every write of a reveal is non-zero -> non-zero. See docs/protocol.md.
 * Built on {FLParams} (task parameters), {FLRegistry} (clients, miners, bonds, reputation,
 * rewards), {FLCommittee} (committee draw, seats, settlement, certification) and {FLScoring}
 * (the paged scoring of a round's updates, and the outcomes clients are settled from).
 */
contract FLProtocol is FLScoring {
    using CidBytes for bytes;

    /// One slot per round.
    struct Round {
        uint32 openedAt;
        uint32 submitClosedAt;
        uint32 commitClosedAt;
        uint32 revealClosedAt;
        uint16 population; // clients registered when the round opened: the sample's population
        uint16 expectedSubmissions;
        uint16 numSubmissions;
        uint8 committeeSize;
        uint16 committedMask;
        uint16 revealedMask;
        uint32 previous; // the previous round's `Outcome` word, its low 32 bits
        bool finalized;
    }

    uint256 private _currentRound;
    mapping(uint256 round => Round) private _rounds;
    /// Update slots (their score words) made ready (non-zero) so far, by `prepareSlots`.
    uint256 private _preparedSlots;

    /// @param p Task parameters; fixed for the contract's lifetime.
    /// @param tokenName Name of the reward token this contract creates (and alone mints).
    /// @param tokenSymbol Symbol of the reward token.
    constructor(
        TaskParams memory p,
        string memory tokenName,
        string memory tokenSymbol
    ) FLParams(p, tokenName, tokenSymbol) FLCommittee(p) {}

    // =========================================================================
    // Rounds
    // =========================================================================

    /// @notice Makes the committee's score words of the next `PREPARE_PAGE` update slots
    /// non-zero, so that no reveal pays for fresh slots. Admin only, before
    /// training, until `slotsPrepared()` reports every one of `maxUpdatesPerRound` slots ready
    /// (a deployment calls it `ceil(maxUpdatesPerRound / PREPARE_PAGE)` times).
    function prepareSlots() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_trainingStarted()) revert TrainingAlreadyStarted();
        uint256 from = _preparedSlots;
        if (from >= _maxUpdates) revert SlotsAlreadyPrepared(_maxUpdates);
        uint256 to = from + PREPARE_PAGE < _maxUpdates ? from + PREPARE_PAGE : _maxUpdates;
        _preparedSlots = to;
        _prewarmScores(from / 16, (to + 15) / 16);
        emit SlotsPrepared(to, _maxUpdates);
    }

    /// @notice Opens round 0 and draws its committee. Admin only, once, after `prepareSlots`.
    function startTraining() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_rounds[0].openedAt != 0) revert TrainingAlreadyStarted();
        if (_preparedSlots < _maxUpdates) revert SlotsNotPrepared(_preparedSlots, _maxUpdates);
        _openRound(0, 0);
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
        // `_phase(rd) == Phase.Submit`, reading only what the submit phase depends on
        if (rd.openedAt == 0 || rd.finalized || block.timestamp >= _submitEnd(rd)) {
            revert NotInPhase(round, Phase.Submit, _phase(rd));
        }
        uint256 tag = c.roundPlusOne;
        if (tag == round + 1) revert AlreadySubmitted(round, msg.sender);
        if (_clientsPerRound != 0 && !_sampled(rd, c.index)) revert NotSampled(round, msg.sender);
        if (!cid.isValid()) revert InvalidCid(cid);
        if (numSamples == 0) revert ZeroSamples();
        if (numSamples > type(uint32).max) revert TooManySamples(numSamples, type(uint32).max);
        // Never full: numSubmissions < expectedSubmissions <= maxUpdatesPerRound here
        // (registration keeps expected within the round's slots).
        uint256 index = rd.numSubmissions;

        uint256 pending = c.updatePlusOne;
        if (pending != 0) {
            // Its previous update, of a finalized round (tag - 1): most often the previous
            // round, whose outcome the open round keeps.
            _applySettlement(c, tag - 1, pending - 1, tag == round ? rd.previous : _outcomeOf(tag - 1));
        }
        c.roundPlusOne = uint32(round + 1);
        c.updatePlusOne = uint16(index + 1);
        rd.numSubmissions = uint16(index + 1);
        if (index + 1 >= rd.expectedSubmissions) rd.submitClosedAt = uint32(block.timestamp);
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
        if (mask == (1 << rd.committeeSize) - 1) rd.commitClosedAt = uint32(block.timestamp);
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
        if (_calldataCommitment(round, scores, salt) != _commitments[seat]) {
            revert CommitmentMismatch(round, msg.sender);
        }
        uint256[] memory packed = _packScores(scores);
        for (uint256 c = 0; c < packed.length; ++c) _scores[seat][c] = packed[c];
        _commitments[seat] = salt; // the commitment is spent; the salt seeds the next draw
        uint16 mask = rd.revealedMask | bit;
        rd.revealedMask = mask;
        if (mask == rd.committedMask) rd.revealClosedAt = uint32(block.timestamp);
        emit VotesRevealed(round, msg.sender, n, packed, salt);
    }

    /// @notice Finalizes `round` one page at a time: each call scores at most `FINALIZE_PAGE`
    /// updates (median of the revealed scores; accepted at or above the threshold when the
    /// reveals reach the quorum), so no call's gas grows with the round's size. The call that
    /// scores the last update stores the round's outcome (each client is settled from it in its
    /// own next transaction), settles the committee, fixes the next seed, emits `RoundFinalized`
    /// and opens the next round (or, after the last round, finishes the task). Anyone may call,
    /// as often as it takes, once the round is `Closed`.
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
        bool decided = Bits.popcount(revealed) >= _quorum;
        (bool scored, uint256 outcome) = _scoreNextPage(round, n, k, revealed, decided);
        if (scored) _closeRound(round, rd, n, k, revealed, decided, outcome);
    }

    // =========================================================================
    // Views
    // =========================================================================

    /// @notice Whether `account` is an active client drawn to train in `round`, the current round
    /// (false for any other round, and once it is finalized): every active client without
    /// sampling, else `clientsPerRound` of the round's population (`ClientSample`, committee seed).
    function isSampled(uint256 round, address account) external view returns (bool) {
        Round storage rd = _rounds[round];
        Client storage c = _clients[account];
        if (round != _currentRound || rd.openedAt == 0 || rd.finalized) return false;
        return c.status == Status.Active && _sampled(rd, c.index);
    }

    /// @notice Update slots made ready by `prepareSlots`, of the `maxUpdatesPerRound` training needs.
    function slotsPrepared() external view returns (uint256 prepared, uint256 total) {
        return (_preparedSlots, _maxUpdates);
    }

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
        info.numAccepted = uint16(rd.finalized ? Outcome.numAccepted(_outcomeOf(round)) : _progressOf(round).numAccepted);
        info.certified = _certified[round].length != 0;
    }

    /// @notice How far `round`'s paged finalization is: `done` of its `total` updates scored
    /// (all done once finalized).
    function finalizationProgress(uint256 round) external view returns (uint256 done, uint256 total) {
        Round storage rd = _rounds[round];
        total = rd.numSubmissions;
        done = rd.finalized ? total : _progressOf(round).cursor;
    }

    // =========================================================================
    // Internals
    // =========================================================================

    /// @dev Whether client `index` is in the open round `rd`'s sample (every client without sampling).
    function _sampled(Round storage rd, uint256 index) private view returns (bool) {
        if (_clientsPerRound == 0) return true;
        uint256 n = rd.population;
        return index < n && ClientSample.position(_seed, n, index) < _clientsPerRound;
    }

    function _submitEnd(Round storage rd) private view returns (uint256) {
        uint256 closed = rd.submitClosedAt;
        return closed != 0 ? closed : uint256(rd.openedAt) + _submitDuration;
    }

    function _phaseEnds(Round storage rd) private view returns (uint256 s, uint256 c, uint256 v) {
        s = _submitEnd(rd);
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

    function _openRound(uint256 round, uint256 previous) private {
        _currentRound = round;
        uint256 expected = _activeClients; // <= maxUpdatesPerRound without sampling (registerClient)
        if (_clientsPerRound != 0 && expected > _clientsPerRound) expected = _clientsPerRound;
        uint256 population = _population;
        (address[] memory members, bytes32 seed) = _drawCommittee(round);
        _rounds[round] = Round({
            openedAt: uint32(block.timestamp),
            submitClosedAt: 0,
            commitClosedAt: 0,
            revealClosedAt: 0,
            population: uint16(population),
            expectedSubmissions: uint16(expected),
            numSubmissions: 0,
            committeeSize: uint8(members.length),
            committedMask: 0,
            revealedMask: 0,
            previous: uint32(previous),
            finalized: false
        });
        emit RoundOpened(round, block.timestamp, expected, population);
        emit CommitteeDrawn(round, members, seed);
    }

    /// The last step of `finalizeRound`: records the outcome, settles the committee, fixes the
    /// next seed and opens the next round (or finishes the task).
    function _closeRound(
        uint256 round,
        Round storage rd,
        uint256 n,
        uint256 k,
        uint256 revealed,
        bool decided,
        uint256 outcome
    ) private {
        rd.finalized = true;
        _advanceSeed(round, k, revealed);
        if (n > 0) {
            uint256 credited = _settleCommittee(round, n, k, revealed, decided, _agreed);
            if (credited != 0) _addCredited(credited);
        }
        emit RoundFinalized(round, n, Outcome.numAccepted(outcome), Bits.popcount(revealed));
        if (round + 1 < _numRounds) _openRound(round + 1, outcome);
        else emit TrainingFinished(_numRounds);
    }

    // =========================================================================
    // Hooks of FLRegistry and FLCommittee
    // =========================================================================

    /// @dev See {FLRegistry-_expectOneMore}.
    function _expectOneMore(bool more, uint256 index) internal override {
        Round storage rd = _rounds[_currentRound];
        if (_phase(rd) != Phase.Submit) return;
        // Sampled: a joiner is outside the population drawn from, a leaver counts if drawn.
        if (_clientsPerRound != 0 && (more || !_sampled(rd, index))) return;
        uint256 expected = rd.expectedSubmissions;
        if (more) {
            if (expected >= _maxUpdates) revert ClientSlotsFull(_maxUpdates);
            rd.expectedSubmissions = uint16(expected + 1);
        } else if (expected > 0) {
            rd.expectedSubmissions = uint16(expected - 1);
            if (rd.numSubmissions >= expected - 1) rd.submitClosedAt = uint32(block.timestamp);
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
