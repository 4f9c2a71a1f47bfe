// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLToken} from "./FLToken.sol";
import {IFLProtocol} from "./IFLProtocol.sol";
import {CidBytes} from "./libraries/CidBytes.sol";

/**
 * @title FLParams
 * @notice The task parameters of an FLchain task, validated and fixed at deployment.
 *
 * Value fields are immutables (read for free by the round logic); the two CIDs
 * are stored once. The base of {FLRegistry}, {FLCommittee} and {FLProtocol}:
 * its constructor runs first, so bad parameters revert before anything else.
 * It also creates the reward token, whose only (and permanent) minter is
 * therefore this contract.
 */
abstract contract FLParams is IFLProtocol {
    uint256 public constant MAX_SCORE = 10_000;
    uint256 public constant MAX_COMMITTEE = 16;
    uint256 public constant MAX_UPDATES = 4096;
    /// Steps one `finalizeRound` call takes at most (an update scored, or an update's client settled).
    uint256 public constant FINALIZE_PAGE = 128;
    /// Update slots one `prepareSlots` call makes ready at most (a multiple of 16).
    uint256 public constant PREPARE_PAGE = 64;
    /// Bound on `rounds * clientRewardPerRound` and `rounds * minerRewardPerRound` (2^80 - 1).
    uint256 public constant MAX_TASK_REWARD = type(uint80).max;

    FLToken internal immutable _token;
    uint32 internal immutable _numRounds;
    uint8 internal immutable _committeeSize;
    uint8 internal immutable _quorum;
    uint16 internal immutable _threshold;
    uint32 internal immutable _submitDuration;
    uint32 internal immutable _commitDuration;
    uint32 internal immutable _revealDuration;
    uint256 internal immutable _clientReward;
    uint256 internal immutable _minerReward;
    uint32 internal immutable _sampleCap;
    uint16 internal immutable _slashBps;
    uint16 internal immutable _maxUpdates;
    uint96 internal immutable _clientBond;
    uint96 internal immutable _minerBond;
    uint16 internal immutable _clientsPerRound;

    bytes private _initialModelCid;
    bytes private _specCid;

    /// @param p Task parameters; fixed for the contract's lifetime.
    /// @param tokenName Name of the reward token this contract creates.
    /// @param tokenSymbol Symbol of the reward token.
    constructor(TaskParams memory p, string memory tokenName, string memory tokenSymbol) {
        _validate(p);
        _token = new FLToken(tokenName, tokenSymbol);
        _numRounds = p.rounds;
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
        _clientsPerRound = p.clientsPerRound;
        _initialModelCid = p.initialModelCid;
        _specCid = p.specCid;
    }

    /// @notice The task parameters fixed at deployment.
    function taskParams() external view returns (TaskParams memory) {
        return
            TaskParams({
                initialModelCid: _initialModelCid,
                specCid: _specCid,
                rounds: _numRounds,
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
                minerBond: _minerBond,
                clientsPerRound: _clientsPerRound
            });
    }

    /// @notice The reward token (created by, and only mintable by, this contract).
    function token() external view returns (address) {
        return address(_token);
    }

    /// @dev Reverts `TaskFinished` for a round past the task's last.
    function _inTask(uint256 round) internal view {
        if (round >= _numRounds) revert TaskFinished(round, _numRounds);
    }

    function _validate(TaskParams memory p) private pure {
        if (p.rounds == 0) revert InvalidParameter("rounds");
        if (p.committeeSize == 0 || p.committeeSize > MAX_COMMITTEE) revert InvalidParameter("committeeSize");
        if (p.quorum == 0 || p.quorum > p.committeeSize) revert InvalidParameter("quorum");
        if (p.acceptanceThreshold == 0 || p.acceptanceThreshold > MAX_SCORE) {
            revert InvalidParameter("acceptanceThreshold");
        }
        if (p.submitDuration == 0) revert InvalidParameter("submitDuration");
        if (p.commitDuration == 0) revert InvalidParameter("commitDuration");
        if (p.revealDuration == 0) revert InvalidParameter("revealDuration");
        // A client's claimable reward is kept in 80 bits: a whole task's client reward must fit.
        if (p.clientRewardPerRound > MAX_TASK_REWARD / p.rounds) revert InvalidParameter("clientRewardPerRound");
        if (p.minerRewardPerRound > MAX_TASK_REWARD / p.rounds) revert InvalidParameter("minerRewardPerRound");
        if (p.sampleCap == 0) revert InvalidParameter("sampleCap");
        if (p.slashBps > 10_000) revert InvalidParameter("slashBps");
        if (p.maxUpdatesPerRound == 0 || p.maxUpdatesPerRound > MAX_UPDATES) {
            revert InvalidParameter("maxUpdatesPerRound");
        }
        // 0: every active client trains every round; else that many are drawn, one slot each.
        if (p.clientsPerRound > p.maxUpdatesPerRound) revert InvalidParameter("clientsPerRound");
        if (p.clientBond > type(uint80).max) revert InvalidParameter("clientBond"); // a client's bond is 80 bits
        if (!CidBytes.hasCidPrefix(p.initialModelCid)) revert InvalidParameter("initialModelCid");
        if (!CidBytes.hasCidPrefix(p.specCid)) revert InvalidParameter("specCid");
    }
}
