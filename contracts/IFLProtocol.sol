// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title IFLProtocol
 * @notice Types, events and errors of the FLchain round protocol.
 *
 * Events carry everything an auditor needs to rebuild the history from logs
 * alone: full CID bytes, sample counts, indices, committees, commitments,
 * revealed scores and salts (the committee seeds follow from them),
 * per-update outcomes, reputation changes, rewards, slashes, attestations and
 * certifications.
 */
interface IFLProtocol {
    /// @notice Where a round is. `Closed` means the reveal phase is over and the round awaits `finalizeRound`.
    /// Rounds `>= rounds` never open: finalizing round `rounds - 1` finishes the task.
    enum Phase {
        NotOpened,
        Submit,
        Commit,
        Reveal,
        Closed,
        Finalized
    }

    /// @notice Parameters fixed at deployment.
    struct TaskParams {
        bytes initialModelCid;
        bytes specCid;
        uint32 rounds;
        uint8 committeeSize;
        uint8 quorum;
        uint16 acceptanceThreshold;
        uint32 submitDuration;
        uint32 commitDuration;
        uint32 revealDuration;
        uint256 clientRewardPerRound;
        uint256 minerRewardPerRound;
        uint32 sampleCap;
        uint16 slashBps;
        uint16 maxUpdatesPerRound;
        uint96 clientBond;
        uint96 minerBond;
        uint16 clientsPerRound;
    }

    /// @notice A round's state, as returned by `roundInfo`. Phase ends are unix timestamps.
    struct RoundInfo {
        Phase phase;
        uint64 openedAt;
        uint64 submitEnd;
        uint64 commitEnd;
        uint64 revealEnd;
        uint16 expectedSubmissions;
        uint16 numSubmissions;
        uint8 committeeSize;
        uint8 numCommits;
        uint8 numReveals;
        uint16 numAccepted;
        bool certified;
    }

    // --- registration and bonds ---------------------------------------------

    /// @notice `client` registered with `bond`; `index` is its place in the client sampling's
    /// population (a fresh one at every registration).
    event ClientRegistered(address indexed client, uint256 index, uint256 bond, uint256 reputation);
    event MinerRegistered(address indexed miner, uint256 bond, uint256 reputation);
    event ClientLeft(address indexed client, uint256 indexed round);
    event MinerLeft(address indexed miner, uint256 indexed round);
    event BondWithdrawn(address indexed account, uint256 amount);

    // --- rounds ---------------------------------------------------------------

    /// @notice `prepared` of the task's `total` update slots are ready (see `prepareSlots`).
    event SlotsPrepared(uint256 prepared, uint256 total);

    /// @notice `round` opened; registrations `0 .. population - 1` (by index) are the population
    /// its `clientsPerRound` clients are drawn from (see `isSampled`).
    event RoundOpened(uint256 indexed round, uint256 openedAt, uint256 expectedSubmissions, uint256 population);
    event CommitteeDrawn(uint256 indexed round, address[] members, bytes32 seed);
    event UpdateSubmitted(
        uint256 indexed round,
        address indexed client,
        uint256 indexed index,
        bytes cid,
        uint256 numSamples
    );
    event VotesCommitted(uint256 indexed round, address indexed miner, bytes32 commitment);
    /// @notice `miner` revealed its `count` scores of `round` (one per update, in index order), packed
    /// 16 bits each, 16 per word, lowest bits first, and the salt of its commitment.
    event VotesRevealed(
        uint256 indexed round,
        address indexed miner,
        uint256 count,
        uint256[] scores,
        bytes32 salt
    );
    /// @notice One page of `round`'s outcomes: updates `firstIndex .. firstIndex + count - 1`, each
    /// scored from `reveals` revealed scores. Bit j of `acceptedBits` is update `firstIndex + j`'s
    /// acceptance; `medians` packs their lower medians 16 bits each, 16 per word, lowest bits first.
    event UpdatesScored(
        uint256 indexed round,
        uint256 firstIndex,
        uint256 count,
        uint256 reveals,
        uint256 acceptedBits,
        uint256[] medians
    );
    event ReputationChanged(
        address indexed account,
        uint256 indexed round,
        uint256 oldReputation,
        uint256 newReputation
    );
    /// @notice `amount` reward tokens were credited to `account` for `round` (claimable through `claim`).
    event Rewarded(uint256 indexed round, address indexed account, uint256 amount);
    /// @notice `account` claimed its whole credited reward: `amount` tokens were minted to it.
    event RewardsClaimed(address indexed account, uint256 amount);
    event Slashed(uint256 indexed round, address indexed miner, uint256 amount, uint256 remainingBond);
    /// @notice `round` is finalized: of its `numSubmissions` updates, `numAccepted` were accepted
    /// (the `UpdatesScored` pages say which), scored from `numReveals` reveals.
    event RoundFinalized(uint256 indexed round, uint256 numSubmissions, uint256 numAccepted, uint256 numReveals);
    /// @notice The last round (`rounds - 1`) was finalized: no further round opens.
    event TrainingFinished(uint256 rounds);

    // --- aggregate certification ---------------------------------------------

    event AggregateAttested(uint256 indexed round, address indexed attester, bytes32 indexed cidHash, bytes cid);
    event AggregateCertified(uint256 indexed round, bytes32 indexed cidHash, bytes cid);
    event AggregateDisputed(
        uint256 indexed round,
        address indexed attester,
        bytes cid,
        bytes certifiedCid
    );

    // --- errors ---------------------------------------------------------------

    error InvalidParameter(string name);
    error InsufficientBond(uint256 sent, uint256 required);
    error AlreadyRegistered(address account);
    error PendingWithdrawal(address account);
    error NotRegistered(address account);
    error NotClient(address account);
    error TooManyMiners(uint256 max);
    error ClientSlotsFull(uint256 max);
    error TooManyClients(uint256 max);
    error NotSampled(uint256 round, address client);
    error BondLocked(address account, uint256 round);
    error StillRegistered(address account);
    error NothingToWithdraw(address account);
    error WithdrawFailed(address account, uint256 amount);
    error TrainingAlreadyStarted();
    error TaskFinished(uint256 round, uint256 rounds);
    error NotInPhase(uint256 round, Phase expected, Phase actual);
    error AlreadySubmitted(uint256 round, address client);
    error InvalidCid(bytes cid);
    error ZeroSamples();
    error TooManySamples(uint256 given, uint256 max);
    error NotInCommittee(uint256 round, address account);
    error AlreadyCommitted(uint256 round, address miner);
    error EmptyCommitment();
    error NotCommitted(uint256 round, address miner);
    error AlreadyRevealed(uint256 round, address miner);
    error WrongScoreCount(uint256 given, uint256 expected);
    error ScoreOutOfRange(uint256 index, uint256 score);
    error CommitmentMismatch(uint256 round, address miner);
    error RoundAlreadyFinalized(uint256 round);
    error RoundNotFinalized(uint256 round);
    error CertificationClosed(uint256 round, uint256 currentRound);
    error NotAttester(uint256 round, address account);
    error AlreadyAttested(uint256 round, address account);
    error NothingToClaim(address account);
    error SlotsNotPrepared(uint256 prepared, uint256 required);
    error SlotsAlreadyPrepared(uint256 slots);
}
