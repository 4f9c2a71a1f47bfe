// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {FLToken} from "./FLToken.sol";
import {IFLProtocol} from "./IFLProtocol.sol";
import {CidBytes} from "./libraries/CidBytes.sol";
import {Median} from "./libraries/Median.sol";

/**
 * @title FLProtocol
 * @notice Rounds of federated learning with a proof-of-quality committee.
 *
 * Round r runs Submit -> Commit -> Reveal -> Closed, then `finalizeRound(r)`
 * scores every update (median of revealed scores), rewards, slashes and opens
 * round r + 1 with a freshly drawn committee. Every phase ends by time, and
 * early once everybody expected has acted. The aggregate of the accepted
 * updates is certified afterwards by the committee's attestations.
 *
 * Storage is laid out for cheap submissions: the full CID only goes to the
 * event log; per update one word `(client, samples, cid tag)` is written into
 * a ring of slots pre-initialised at deployment, so every write during a
 * round is non-zero -> non-zero. See docs/protocol.md.
 */
contract FLProtocol is IFLProtocol, AccessControl, ReentrancyGuard {
    using CidBytes for bytes;

    /// @notice Role of registered clients (kept in sync with the client's status).
    bytes32 public constant CLIENT_ROLE = keccak256("CLIENT_ROLE");
    /// @notice Role of registered miners (kept in sync with the miner's status).
    bytes32 public constant MINER_ROLE = keccak256("MINER_ROLE");

    uint256 public constant MAX_SCORE = 10_000;
    uint256 public constant MAX_COMMITTEE = 16;
    uint256 public constant MAX_UPDATES = 256;
    uint256 public constant MAX_MINERS = 128;
    uint32 public constant INITIAL_REPUTATION = 100;
    uint32 public constant MAX_REPUTATION = 1_000_000;
    uint32 public constant CLIENT_GAIN = 10;
    uint32 public constant CLIENT_LOSS = 20;
    uint32 public constant MINER_GAIN = 5;
    uint32 public constant MINER_LOSS = 10;
    uint32 public constant SLASH_LOSS = 50;

    enum Status {
        None,
        Active,
        Left
    }

    /// One slot per client; non-zero once registered.
    struct Client {
        uint96 bond;
        uint32 reputation;
        uint32 lastRoundPlusOne;
        uint32 unlockRound; // bond locked until round unlockRound - 1 is finalized (0: unlocked)
        Status status;
        bool seen;
    }

    /// One slot per miner, with its seat in the last even and odd round's committee.
    struct Miner {
        uint96 bond;
        uint32 reputation;
        uint32 unlockRound; // bond locked until round unlockRound - 1 is finalized (0: unlocked)
        Status status;
        uint32 seatRoundPlusOne0;
        uint8 seat0;
        uint32 seatRoundPlusOne1;
        uint8 seat1;
    }

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

    FLToken private immutable _token;
    uint8 private immutable _aggregationRule;
    uint8 private immutable _committeeSize;
    uint8 private immutable _quorum;
    uint16 private immutable _threshold;
    uint32 private immutable _submitDuration;
    uint32 private immutable _commitDuration;
    uint32 private immutable _revealDuration;
    uint256 private immutable _clientReward;
    uint256 private immutable _minerReward;
    uint32 private immutable _sampleCap;
    uint16 private immutable _slashBps;
    uint16 private immutable _maxUpdates;
    uint96 private immutable _clientBond;
    uint96 private immutable _minerBond;

    bytes private _initialModelCid;
    bytes private _specCid;

    uint256 private _currentRound;
    uint256 private _activeClients;
    uint256 private _slashedTotal;
    address[] private _miners;
    mapping(address account => Client) private _clients;
    mapping(address account => Miner) private _minerOf;
    mapping(uint256 round => Round) private _rounds;

    /// Current round's data, reused every round (pre-initialised non-zero).
    uint256[MAX_UPDATES] private _updates;
    address[MAX_COMMITTEE] private _seats;
    bytes32[MAX_COMMITTEE] private _commitments;
    uint256[MAX_UPDATES / 16][MAX_COMMITTEE] private _scores;

    mapping(uint256 round => bytes) private _certified;
    mapping(uint256 round => mapping(address account => bytes32)) private _attestation;
    mapping(uint256 round => mapping(bytes32 cidHash => uint256)) private _attestCount;

    /// @param p Task parameters; fixed for the contract's lifetime.
    /// @param token_ Reward token; this contract must be granted its `MINTER_ROLE`.
    constructor(TaskParams memory p, FLToken token_) {
        _validate(p, address(token_));
        _token = token_;
        _aggregationRule = p.aggregationRule;
        _committeeSize = p.committeeSize;
        _quorum = p.quorum;
        _threshold = p.acceptanceThreshold;
        _submitDuration = p.submitDuration;
        _commitDuration = p.commitDuration;
        _revealDuration = p.revealDuration;
        _clientReward = p.clientRewardPerRound;
        _minerReward = p.minerRewardPerRound;
        _sampleCap = p.sampleCap;
        _slashBps = p.slashBps;
        _maxUpdates = p.maxUpdatesPerRound;
        _clientBond = p.clientBond;
        _minerBond = p.minerBond;
        _initialModelCid = p.initialModelCid;
        _specCid = p.specCid;
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        // Pre-initialise the reused slots so in-round writes are non-zero -> non-zero.
        for (uint256 i = 0; i < p.maxUpdatesPerRound; ++i) _updates[i] = 1;
        uint256 chunks = (uint256(p.maxUpdatesPerRound) + 15) / 16;
        for (uint256 s = 0; s < p.committeeSize; ++s) {
            _seats[s] = address(1);
            _commitments[s] = bytes32(uint256(1));
            for (uint256 c = 0; c < chunks; ++c) _scores[s][c] = 1;
        }
    }

    // =========================================================================
    // Registration and bonds
    // =========================================================================

    /// @notice Registers the caller as a client, locking `msg.value` (at least `clientBond`) as bond.
    function registerClient() external payable {
        Client storage c = _clients[msg.sender];
        if (c.status == Status.Active) revert AlreadyRegistered(msg.sender);
        if (c.status == Status.Left) revert PendingWithdrawal(msg.sender);
        if (msg.value < _clientBond) revert InsufficientBond(msg.value, _clientBond);
        c.bond = SafeCast.toUint96(msg.value);
        c.status = Status.Active;
        if (!c.seen) {
            c.seen = true;
            c.reputation = INITIAL_REPUTATION;
        }
        ++_activeClients;
        _expectOneMore(true);
        _grantRole(CLIENT_ROLE, msg.sender);
        emit ClientRegistered(msg.sender, msg.value, c.reputation);
    }

    /// @notice Registers the caller as a miner, locking `msg.value` (at least `minerBond`) as bond.
    function registerMiner() external payable {
        Miner storage m = _minerOf[msg.sender];
        if (m.status == Status.Active) revert AlreadyRegistered(msg.sender);
        if (m.status == Status.Left) revert PendingWithdrawal(msg.sender);
        if (msg.value < _minerBond) revert InsufficientBond(msg.value, _minerBond);
        if (_miners.length >= MAX_MINERS) revert TooManyMiners(MAX_MINERS);
        m.bond = SafeCast.toUint96(msg.value);
        m.status = Status.Active;
        if (m.reputation == 0) m.reputation = INITIAL_REPUTATION;
        _miners.push(msg.sender);
        _grantRole(MINER_ROLE, msg.sender);
        emit MinerRegistered(msg.sender, msg.value, m.reputation);
    }

    /// @notice Leaves every role the caller holds; a client that has not submitted stops being
    /// waited for. The bond unlocks once the current round is finalized.
    function deregister() external {
        uint32 round = uint32(_currentRound);
        uint32 unlock = _rounds[0].openedAt == 0 ? 0 : round + 1;
        bool left;
        Client storage c = _clients[msg.sender];
        if (c.status == Status.Active) {
            c.status = Status.Left;
            c.unlockRound = unlock;
            --_activeClients;
            if (c.lastRoundPlusOne != round + 1) _expectOneMore(false);
            _revokeRole(CLIENT_ROLE, msg.sender);
            emit ClientLeft(msg.sender, round);
            left = true;
        }
        Miner storage m = _minerOf[msg.sender];
        if (m.status == Status.Active) {
            _deactivateMiner(msg.sender, m, round, unlock);
            left = true;
        }
        if (!left) revert NotRegistered(msg.sender);
    }

    /// @notice Pays out the caller's bonds (pull payment) once the round they left in is finalized.
    function withdraw() external nonReentrant {
        uint256 amount;
        Client storage c = _clients[msg.sender];
        if (c.status == Status.Left) {
            if (!_unlocked(c.unlockRound)) revert BondLocked(msg.sender, c.unlockRound - 1);
            amount += c.bond;
            c.bond = 0;
            c.status = Status.None;
        }
        Miner storage m = _minerOf[msg.sender];
        if (m.status == Status.Left) {
            if (!_unlocked(m.unlockRound)) revert BondLocked(msg.sender, m.unlockRound - 1);
            amount += m.bond;
            m.bond = 0;
            m.status = Status.None;
        }
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        emit BondWithdrawn(msg.sender, amount);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert WithdrawFailed(msg.sender, amount);
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
        Client storage c = _clients[msg.sender];
        if (c.status != Status.Active) revert NotClient(msg.sender);
        Round storage rd = _rounds[round];
        Phase phase = _phase(rd);
        if (phase != Phase.Submit) revert NotInPhase(round, Phase.Submit, phase);
        if (c.lastRoundPlusOne == round + 1) revert AlreadySubmitted(round, msg.sender);
        if (!cid.isValid()) revert InvalidCid(cid);
        if (numSamples == 0) revert ZeroSamples();
        if (numSamples > type(uint32).max) revert TooManySamples(numSamples, type(uint32).max);
        // Never full here: the submission that fills the round closes the submit phase.
        uint256 index = rd.numSubmissions;

        _updates[index] =
            uint256(uint160(msg.sender)) |
            (numSamples << 160) |
            (uint256(uint64(bytes8(keccak256(cid)))) << 192);
        c.lastRoundPlusOne = uint32(round + 1);
        rd.numSubmissions = uint16(index + 1);
        if (index + 1 >= rd.expectedSubmissions || index + 1 == _maxUpdates) {
            rd.submitClosedAt = uint40(block.timestamp);
        }
        emit UpdateSubmitted(round, msg.sender, index, cid, numSamples);
    }

    /// @notice Commits the caller's hidden scores for `round` (see `voteCommitment`). Committee members only.
    /// @param round The current round, in its commit phase.
    /// @param commitment `voteCommitment(round, msg.sender, scores, salt)`.
    function commitVotes(uint256 round, bytes32 commitment) external {
        Round storage rd = _rounds[round];
        Phase phase = _phase(rd);
        if (phase != Phase.Commit) revert NotInPhase(round, Phase.Commit, phase);
        uint256 seat = _seatOf(msg.sender, round);
        uint16 bit = uint16(1 << seat);
        if (rd.committedMask & bit != 0) revert AlreadyCommitted(round, msg.sender);
        if (commitment == bytes32(0)) revert EmptyCommitment();
        _commitments[seat] = commitment;
        uint16 mask = rd.committedMask | bit;
        rd.committedMask = mask;
        if (mask == (1 << rd.committeeSize) - 1) rd.commitClosedAt = uint40(block.timestamp);
        emit VotesCommitted(round, msg.sender, commitment);
    }

    /// @notice Reveals the caller's scores for `round`: one score 0..10000 per update, in submission order.
    /// @param round The current round, in its reveal phase.
    /// @param scores One score per submitted update (0 = reject).
    /// @param salt The salt used in the commitment.
    function revealVotes(uint256 round, uint16[] calldata scores, bytes32 salt) external {
        Round storage rd = _rounds[round];
        Phase phase = _phase(rd);
        if (phase != Phase.Reveal) revert NotInPhase(round, Phase.Reveal, phase);
        uint256 seat = _seatOf(msg.sender, round);
        uint16 bit = uint16(1 << seat);
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
        uint16 mask = rd.revealedMask | bit;
        rd.revealedMask = mask;
        if (mask == rd.committedMask) rd.revealClosedAt = uint40(block.timestamp);
        emit VotesRevealed(round, msg.sender, scores, salt);
    }

    /// @notice Closes `round`: scores, rewards and slashes, emits the accepted set, opens the next round.
    /// Anyone may call once the round is `Closed`.
    /// @param round The current round.
    function finalizeRound(uint256 round) external {
        Round storage rd = _rounds[round];
        if (rd.finalized) revert RoundAlreadyFinalized(round);
        Phase phase = _phase(rd);
        if (phase != Phase.Closed) revert NotInPhase(round, Phase.Closed, phase);

        uint256 n = rd.numSubmissions;
        uint256 k = rd.committeeSize;
        uint256 revealed = rd.revealedMask;
        uint256 numReveals = _popcount(revealed);
        bool decided = numReveals >= _quorum;
        (uint256 acceptedMask, uint256[] memory medians) = _scoreUpdates(round, n, k, revealed);
        if (acceptedMask != 0) _rewardClients(round, n, acceptedMask, medians);
        if (n > 0) _settleCommittee(round, n, k, revealed, decided, acceptedMask);

        uint256 numAccepted = _popcount(acceptedMask);
        rd.finalized = true;
        rd.numAccepted = uint16(numAccepted);
        uint256[] memory accepted = new uint256[](numAccepted);
        uint256 a;
        for (uint256 i = 0; i < n; ++i) {
            if (acceptedMask & (1 << i) != 0) accepted[a++] = i;
        }
        emit RoundFinalized(round, accepted, n, numReveals);
        _openRound(round + 1);
    }

    /// @notice Attests the CID of the aggregate of `round`'s accepted updates. Attestations of
    /// `round`'s committee count toward the quorum; registered clients' are recorded only.
    /// Open while `round` is the previous round.
    /// @param round A finalized round, the one before the current round.
    /// @param cid Binary CID of the aggregate model.
    function certifyAggregate(uint256 round, bytes calldata cid) external {
        if (!_rounds[round].finalized) revert RoundNotFinalized(round);
        if (round + 1 < _currentRound) revert CertificationClosed(round, _currentRound);
        if (!cid.isValid()) revert InvalidCid(cid);
        bool counted = _hasSeat(_minerOf[msg.sender], round);
        if (!counted && _clients[msg.sender].status != Status.Active) {
            revert NotAttester(round, msg.sender);
        }
        if (_attestation[round][msg.sender] != bytes32(0)) revert AlreadyAttested(round, msg.sender);
        bytes32 h = keccak256(cid);
        _attestation[round][msg.sender] = h;
        emit AggregateAttested(round, msg.sender, h, cid, counted);

        bytes storage certified = _certified[round];
        if (certified.length != 0) {
            if (keccak256(certified) != h) emit AggregateDisputed(round, msg.sender, cid, certified);
            return;
        }
        if (counted && ++_attestCount[round][h] >= _quorum) {
            _certified[round] = cid;
            emit AggregateCertified(round, h, cid);
        }
    }

    // =========================================================================
    // Views
    // =========================================================================

    /// @notice The task parameters fixed at deployment.
    function taskParams() external view returns (TaskParams memory) {
        return
            TaskParams({
                initialModelCid: _initialModelCid,
                specCid: _specCid,
                aggregationRule: _aggregationRule,
                committeeSize: _committeeSize,
                quorum: _quorum,
                acceptanceThreshold: _threshold,
                submitDuration: _submitDuration,
                commitDuration: _commitDuration,
                revealDuration: _revealDuration,
                clientRewardPerRound: _clientReward,
                minerRewardPerRound: _minerReward,
                sampleCap: _sampleCap,
                slashBps: _slashBps,
                maxUpdatesPerRound: _maxUpdates,
                clientBond: _clientBond,
                minerBond: _minerBond
            });
    }

    /// @notice The reward token.
    function token() external view returns (address) {
        return address(_token);
    }

    /// @notice True once round 0 has been opened.
    function trainingStarted() external view returns (bool) {
        return _rounds[0].openedAt != 0;
    }

    /// @notice The round currently open (0 before training starts).
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
        info.numCommits = uint8(_popcount(rd.committedMask));
        info.numReveals = uint8(_popcount(rd.revealedMask));
        info.numAccepted = rd.numAccepted;
        info.certified = _certified[round].length != 0;
    }

    /// @notice The committee of the current round, by seat.
    function committee() external view returns (address[] memory members) {
        uint256 k = _rounds[_currentRound].committeeSize;
        members = new address[](k);
        for (uint256 s = 0; s < k; ++s) members[s] = _seats[s];
    }

    /// @notice Whether `account` sits on `round`'s committee (known for the current and previous round).
    function isCommitteeMember(uint256 round, address account) external view returns (bool) {
        return _hasSeat(_minerOf[account], round);
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

    /// @notice A client's status (0 none, 1 active, 2 left), bond, reputation and last submitted round + 1.
    function clientInfo(
        address account
    ) external view returns (uint8 status, uint256 bond, uint256 reputation, uint256 lastRoundPlusOne) {
        Client storage c = _clients[account];
        return (uint8(c.status), c.bond, c.reputation, c.lastRoundPlusOne);
    }

    /// @notice A miner's status (0 none, 1 active, 2 left), bond and reputation.
    function minerInfo(
        address account
    ) external view returns (uint8 status, uint256 bond, uint256 reputation) {
        Miner storage m = _minerOf[account];
        return (uint8(m.status), m.bond, m.reputation);
    }

    /// @notice Active miners, in registration order (modulo removals).
    function miners() external view returns (address[] memory) {
        return _miners;
    }

    /// @notice Number of active clients.
    function activeClientCount() external view returns (uint256) {
        return _activeClients;
    }

    /// @notice Total ether slashed so far (kept locked in the contract).
    function slashedTotal() external view returns (uint256) {
        return _slashedTotal;
    }

    /// @notice The certified aggregate CID of `round` (empty until certified).
    function certifiedAggregate(uint256 round) external view returns (bytes memory) {
        return _certified[round];
    }

    /// @notice keccak256 of the CID `account` attested for `round` (zero if none).
    function attestationOf(uint256 round, address account) external view returns (bytes32) {
        return _attestation[round][account];
    }

    /// @notice Number of counted attestations of `cidHash` for `round`.
    function attestationCount(uint256 round, bytes32 cidHash) external view returns (uint256) {
        return _attestCount[round][cidHash];
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

    // =========================================================================
    // Internals
    // =========================================================================

    function _voteCommitment(
        uint256 round,
        address miner,
        uint16[] calldata scores,
        bytes32 salt
    ) private view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), round, miner, scores, salt));
    }

    function _phaseEnds(Round storage rd) private view returns (uint256 s, uint256 c, uint256 v) {
        s = rd.submitClosedAt != 0 ? rd.submitClosedAt : uint256(rd.openedAt) + _submitDuration;
        if (rd.commitClosedAt != 0) c = rd.commitClosedAt;
        else if (rd.numSubmissions == 0 || rd.committeeSize == 0) c = s;
        else c = s + _commitDuration;
        if (rd.revealClosedAt != 0) v = rd.revealClosedAt;
        else if (rd.committedMask == 0 && block.timestamp >= c) v = c;
        else v = c + _revealDuration;
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

    function _unlocked(uint32 unlockRound) private view returns (bool) {
        return unlockRound == 0 || _rounds[unlockRound - 1].finalized;
    }

    function _hasSeat(Miner storage m, uint256 round) private view returns (bool) {
        uint256 tag = round & 1 == 0 ? m.seatRoundPlusOne0 : m.seatRoundPlusOne1;
        return tag == round + 1;
    }

    function _seatOf(address account, uint256 round) private view returns (uint256) {
        Miner storage m = _minerOf[account];
        if (!_hasSeat(m, round)) revert NotInCommittee(round, account);
        return round & 1 == 0 ? m.seat0 : m.seat1;
    }

    function _openRound(uint256 round) private {
        _currentRound = round;
        uint256 expected = _activeClients < type(uint16).max ? _activeClients : type(uint16).max;
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

    /// Reputation-weighted sampling without replacement, seeded from the previous block.
    function _drawCommittee(uint256 round) private returns (address[] memory members, bytes32 seed) {
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

    /// Median of the revealed scores per update; updates client reputation.
    function _scoreUpdates(
        uint256 round,
        uint256 n,
        uint256 k,
        uint256 revealed
    ) private returns (uint256 acceptedMask, uint256[] memory medians) {
        medians = new uint256[](n);
        uint256[] memory buf = new uint256[](k);
        bool decided = _popcount(revealed) >= _quorum;
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
            address client = address(uint160(_updates[i]));
            emit UpdateScored(round, i, client, median, cnt, accepted);
            if (decided) _updateClientReputation(round, client, accepted);
        }
    }

    function _updateClientReputation(uint256 round, address client, bool accepted) private {
        Client storage c = _clients[client];
        uint32 old = c.reputation;
        uint32 rep;
        if (accepted) rep = old + CLIENT_GAIN > MAX_REPUTATION ? MAX_REPUTATION : old + CLIENT_GAIN;
        else rep = old > CLIENT_LOSS ? old - CLIENT_LOSS : 0;
        c.reputation = rep;
        emit ReputationChanged(client, round, old, rep);
    }

    /// Splits `clientRewardPerRound` over accepted updates in proportion to median x min(samples, cap).
    function _rewardClients(
        uint256 round,
        uint256 n,
        uint256 acceptedMask,
        uint256[] memory medians
    ) private {
        if (_clientReward == 0) return;
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            if (acceptedMask & (1 << i) == 0) continue;
            uint256 samples = uint32(_updates[i] >> 160);
            if (samples > _sampleCap) samples = _sampleCap;
            medians[i] *= samples;
            total += medians[i];
        }
        for (uint256 i = 0; i < n; ++i) {
            if (acceptedMask & (1 << i) == 0) continue;
            uint256 amount = (_clientReward * medians[i]) / total;
            address client = address(uint160(_updates[i]));
            _token.mint(client, amount);
            emit Rewarded(round, client, amount);
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
    ) private {
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

    function _slash(uint256 round, address miner, Miner storage m) private {
        uint96 amount = uint96((uint256(m.bond) * _slashBps) / 10_000);
        uint96 remaining = m.bond - amount;
        m.bond = remaining;
        _slashedTotal += amount;
        emit Slashed(round, miner, amount, remaining);
        uint32 old = m.reputation;
        uint32 rep = old > SLASH_LOSS ? old - SLASH_LOSS : 1;
        m.reputation = rep;
        emit ReputationChanged(miner, round, old, rep);
        if (m.status == Status.Active && remaining < _minerBond) {
            _deactivateMiner(miner, m, round, uint32(round + 1));
        }
    }

    function _deactivateMiner(address miner, Miner storage m, uint256 round, uint32 unlock) private {
        m.status = Status.Left;
        m.unlockRound = unlock;
        uint256 last = _miners.length - 1;
        for (uint256 i = 0; i <= last; ++i) {
            if (_miners[i] == miner) {
                _miners[i] = _miners[last];
                _miners.pop();
                break;
            }
        }
        _revokeRole(MINER_ROLE, miner);
        emit MinerLeft(miner, round);
    }

    /// While the open round is in its submit phase, keeps its expected submissions equal to
    /// the clients that have submitted or still may (joiners count, leavers who had not
    /// submitted don't); closes the phase once nobody else is expected.
    function _expectOneMore(bool more) private {
        Round storage rd = _rounds[_currentRound];
        if (_phase(rd) != Phase.Submit) return;
        uint256 expected = rd.expectedSubmissions;
        if (more) {
            if (expected < type(uint16).max) rd.expectedSubmissions = uint16(expected + 1);
        } else if (expected > 0) {
            rd.expectedSubmissions = uint16(expected - 1);
            if (rd.numSubmissions >= expected - 1) rd.submitClosedAt = uint40(block.timestamp);
        }
    }

    function _popcount(uint256 x) private pure returns (uint256 c) {
        for (; x != 0; x &= x - 1) ++c;
    }

    function _validate(TaskParams memory p, address token_) private pure {
        if (token_ == address(0)) revert InvalidParameter("token");
        if (p.committeeSize == 0 || p.committeeSize > MAX_COMMITTEE) revert InvalidParameter("committeeSize");
        if (p.quorum == 0 || p.quorum > p.committeeSize) revert InvalidParameter("quorum");
        if (p.acceptanceThreshold == 0 || p.acceptanceThreshold > MAX_SCORE) {
            revert InvalidParameter("acceptanceThreshold");
        }
        if (p.submitDuration == 0) revert InvalidParameter("submitDuration");
        if (p.commitDuration == 0) revert InvalidParameter("commitDuration");
        if (p.revealDuration == 0) revert InvalidParameter("revealDuration");
        if (p.sampleCap == 0) revert InvalidParameter("sampleCap");
        if (p.slashBps > 10_000) revert InvalidParameter("slashBps");
        if (p.maxUpdatesPerRound == 0 || p.maxUpdatesPerRound > MAX_UPDATES) {
            revert InvalidParameter("maxUpdatesPerRound");
        }
        if (!_validCidMemory(p.initialModelCid)) revert InvalidParameter("initialModelCid");
        if (!_validCidMemory(p.specCid)) revert InvalidParameter("specCid");
    }

    function _validCidMemory(bytes memory cid) private pure returns (bool) {
        if (cid.length == 34) return cid[0] == 0x12 && cid[1] == 0x20;
        if (cid.length != 36) return false;
        return cid[0] == 0x01 && (cid[1] == 0x55 || cid[1] == 0x70) && cid[2] == 0x12 && cid[3] == 0x20;
    }
}
