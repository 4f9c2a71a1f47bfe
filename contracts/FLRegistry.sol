// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {FLParams} from "./FLParams.sol";
import {Outcome} from "./libraries/Outcome.sol";

/**
 * @title FLRegistry
 * @notice Clients and miners of an FLchain task: registration, bonds,
 * leaving and withdrawing, reputation and slashing. The only role is the
 * admin's (`DEFAULT_ADMIN_ROLE`, which opens training).
 *
 * One storage slot per client and per miner. Bonds unlock once the round that
 * was open when the account left is finalized; what "open" and "finalized"
 * mean is up to the round logic, reached through the hooks at the end.
 */
abstract contract FLRegistry is AccessControl, ReentrancyGuard, FLParams {
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

    /// One slot per client; non-zero once registered. `roundPlusOne` is the last round the client
    /// submitted in, plus one, while it is active; once it left, the round whose finalization
    /// unlocks its bond, plus one (0: unlocked). `updatePlusOne` is the index of its update in
    /// round `roundPlusOne - 1`, plus one, until that update is settled (0: nothing to settle):
    /// a client's reputation and reward for an update are applied lazily, in its own next
    /// transaction (`submitUpdate`, `claim`, `deregister`, `withdraw`), from the round's stored
    /// outcome, and every view reports them as applied once the round is finalized. `owed` is
    /// its claimable reward (see `claim`).
    struct Client {
        uint80 bond;
        uint16 index; // its place in the sampling population, given at each registration
        uint24 reputation; // 1..MAX_REPUTATION once registered (0: never registered)
        uint32 roundPlusOne;
        Status status;
        uint16 updatePlusOne;
        uint80 owed;
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

    uint256 internal _activeClients;
    /// Client registrations so far: the next registration's index (see `ClientSample`).
    uint256 internal _population;
    uint256 private _slashedTotal;
    address[] internal _miners;
    mapping(address account => Client) internal _clients;
    mapping(address account => Miner) internal _minerOf;
    /// Claimable rewards of miners (a client's live in its `Client` slot).
    mapping(address account => uint256) private _minerOwed;
    /// Rewards granted by finalization since deployment (see `totalCredited`).
    uint256 private _totalCredited;

    constructor() {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
    }

    // =========================================================================
    // Registration and bonds
    // =========================================================================

    /// @notice Registers the caller as a client, locking `msg.value` (at least `clientBond`) as bond.
    /// Without sampling (`clientsPerRound` 0), at most `maxUpdatesPerRound` clients are active (and,
    /// in a submit phase, at most that many have submitted or still may), so every active client
    /// always has a slot in the round; with sampling, up to 65535 registrations in all.
    function registerClient() external payable {
        Client storage c = _clients[msg.sender];
        if (c.status == Status.Active) revert AlreadyRegistered(msg.sender);
        if (c.status == Status.Left) revert PendingWithdrawal(msg.sender);
        if (msg.value < _clientBond) revert InsufficientBond(msg.value, _clientBond);
        if (_clientsPerRound == 0 && _activeClients >= _maxUpdates) revert ClientSlotsFull(_maxUpdates);
        c.bond = SafeCast.toUint80(msg.value);
        c.status = Status.Active;
        // A fresh index at every registration: one who comes back is outside the open round's
        // population, like any joiner, so its old index cannot make it one of the round's drawn.
        uint256 index = _population;
        if (index == type(uint16).max) revert TooManyClients(index);
        _population = index + 1;
        c.index = uint16(index);
        if (c.reputation == 0) c.reputation = uint24(INITIAL_REPUTATION); // first registration
        ++_activeClients;
        _expectOneMore(true, c.index);
        emit ClientRegistered(msg.sender, c.index, msg.value, c.reputation);
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
        emit MinerRegistered(msg.sender, msg.value, m.reputation);
    }

    /// @notice Leaves as client and as miner (whichever the caller is); a client that has not submitted stops being
    /// waited for. The bond unlocks once the current round is finalized.
    function deregister() external {
        uint32 round = uint32(_openRoundId());
        uint32 unlock = _trainingStarted() ? round + 1 : 0;
        bool left;
        Client storage c = _clients[msg.sender];
        if (c.status == Status.Active) {
            _settle(c, round); // before its round tag becomes the unlock round
            c.status = Status.Left;
            --_activeClients;
            if (c.roundPlusOne != round + 1) _expectOneMore(false, c.index);
            c.roundPlusOne = unlock;
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
    /// Reverts `BondLocked` before that, `StillRegistered` while the caller is active and has
    /// nothing else to withdraw.
    function withdraw() external nonReentrant {
        uint256 amount;
        Client storage c = _clients[msg.sender];
        if (_releasable(c.status, c.roundPlusOne)) {
            _settle(c, _openRoundId());
            amount += c.bond;
            c.bond = 0;
            c.status = Status.None;
        }
        Miner storage m = _minerOf[msg.sender];
        if (_releasable(m.status, m.unlockRound)) {
            amount += m.bond;
            m.bond = 0;
            m.status = Status.None;
        }
        if (amount == 0) {
            if (c.status == Status.Active || m.status == Status.Active) revert StillRegistered(msg.sender);
            revert NothingToWithdraw(msg.sender);
        }
        emit BondWithdrawn(msg.sender, amount);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert WithdrawFailed(msg.sender, amount);
    }

    // =========================================================================
    // Rewards (pull payment)
    // =========================================================================

    /// @notice Mints the caller's whole claimable reward (credited by `finalizeRound`, a client's
    /// last update settled first if its round is finalized) to the caller. Reverts
    /// `NothingToClaim` when nothing is owed. No guard: the only external call is the last step,
    /// to the reward token this contract created.
    /// @return amount The tokens minted.
    function claim() external returns (uint256 amount) {
        Client storage c = _clients[msg.sender];
        _settle(c, _openRoundId());
        uint256 minerOwed = _minerOwed[msg.sender];
        amount = uint256(c.owed) + minerOwed;
        if (amount == 0) revert NothingToClaim(msg.sender);
        if (c.owed != 0) c.owed = 0;
        if (minerOwed != 0) _minerOwed[msg.sender] = 0;
        emit RewardsClaimed(msg.sender, amount);
        _token.mint(msg.sender, amount);
    }

    /// @notice Reward tokens `account` may claim now (credited and not yet claimed).
    function claimable(address account) external view returns (uint256) {
        return uint256(_clientNow(account).owed) + _minerOwed[account];
    }

    /// @notice Rewards granted by finalization since deployment (claimed or not): every decided
    /// round's `clientRewardPerRound` when it accepted an update (split among them, each share
    /// rounded down, so the clients' shares add up to at most this) and the committee's credits.
    function totalCredited() external view returns (uint256) {
        return _totalCredited;
    }

    /// @notice Rewards claimed since deployment: the reward token's total supply.
    function totalClaimed() external view returns (uint256) {
        return _token.totalSupply();
    }

    // =========================================================================
    // Views
    // =========================================================================

    /// @notice A client's status (0 none, 1 active, 2 left), bond, reputation and round tag: while active, the
    /// last round it submitted in plus one (0: none); once left, the round whose finalization unlocks its
    /// bond plus one (0: unlocked). The reputation counts its last update once that round is finalized.
    function clientInfo(
        address account
    ) external view returns (uint8 status, uint256 bond, uint256 reputation, uint256 lastRoundPlusOne) {
        Client memory c = _clientNow(account);
        return (uint8(c.status), c.bond, c.reputation, c.roundPlusOne);
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

    // =========================================================================
    // Internals
    // =========================================================================

    /// @dev Whether the caller's bond in a registration with `status` and `unlockRound` is paid out:
    /// true once it left and the round it left in is finalized; reverts `BondLocked` before that.
    function _releasable(Status status, uint32 unlockRound) private view returns (bool) {
        if (status != Status.Left) return false;
        if (unlockRound != 0 && !_isFinalized(unlockRound - 1)) revert BondLocked(msg.sender, unlockRound - 1);
        return true;
    }

    /// @dev A client of reputation `rep` whose update `index` of the finalized `round` is settled,
    /// given the round's `Outcome` word: unchanged when the round was undecided;
    /// else reputation up (accepted) or down (rejected, never below 1) and, accepted, its reward
    /// `clientRewardPerRound * median / medianTotal`. Returns the new reputation and the reward.
    function _settlement(
        uint256 round,
        uint256 index,
        uint256 outcome,
        uint256 rep
    ) internal view returns (uint256, uint256 amount) {
        if (!Outcome.isDecided(outcome)) return (rep, 0);
        uint256 median = _medianOf(round, index);
        if (median < _threshold) return (rep > CLIENT_LOSS ? rep - CLIENT_LOSS : 1, 0);
        amount = (_clientReward * median) / Outcome.medianTotal(outcome);
        return (rep + CLIENT_GAIN > MAX_REPUTATION ? MAX_REPUTATION : rep + CLIENT_GAIN, amount);
    }

    /// @dev Applies to client `c` its update `index` of the finalized `round`, whose outcome word
    /// is `outcome` (the caller clears or replaces `c.updatePlusOne`).
    function _applySettlement(Client storage c, uint256 round, uint256 index, uint256 outcome) internal {
        (uint256 rep, uint256 amount) = _settlement(round, index, outcome, c.reputation);
        _credit(c, rep, amount);
    }

    /// @dev Sets client `c`'s reputation to `rep` and adds `amount` to what it is owed.
    function _credit(Client storage c, uint256 rep, uint256 amount) private {
        c.reputation = uint24(rep);
        if (amount != 0) c.owed += uint80(amount); // fits: at most clientRewardPerRound a round (FLParams)
    }

    /// @dev Whether `c`'s pending update is due, i.e. its round is finalized (every round before
    /// `openRound`, the round currently open, is; `openRound` itself once the task is over), and
    /// the reputation and reward it settles to (`_settlement`).
    function _due(Client storage c, uint256 openRound) private view returns (bool due, uint256 rep, uint256 amount) {
        rep = c.reputation;
        uint256 pending = c.updatePlusOne;
        if (pending == 0) return (false, rep, 0);
        uint256 round = c.roundPlusOne - 1;
        if (round >= openRound && !_isFinalized(round)) return (false, rep, 0);
        (rep, amount) = _settlement(round, pending - 1, _outcomeOf(round), rep);
        return (true, rep, amount);
    }

    /// @dev Settles `c`'s pending update if it is due (see `_due`): one write of its slot.
    function _settle(Client storage c, uint256 openRound) internal {
        if (c.updatePlusOne == 0) return;
        (bool due, uint256 rep, uint256 amount) = _due(c, openRound);
        if (!due) return;
        _credit(c, rep, amount);
        c.updatePlusOne = 0;
    }

    /// @dev `account`'s client record as `_settle` would leave it now.
    function _clientNow(address account) private view returns (Client memory c) {
        (, uint256 rep, uint256 amount) = _due(_clients[account], _openRoundId());
        c = _clients[account];
        c.reputation = uint24(rep);
        c.owed += uint80(amount);
    }

    /// @dev Credits `amount` reward to `miner` (claimable through `claim`).
    function _creditMiner(uint256 round, address miner, uint256 amount) internal {
        _minerOwed[miner] += amount;
        emit Rewarded(round, miner, amount);
    }

    /// @dev Adds `amount` to the total credited (once per finalization).
    function _addCredited(uint256 amount) internal {
        _totalCredited += uint128(amount);
    }

    function _slash(uint256 round, address miner, Miner storage m) internal {
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
        emit MinerLeft(miner, round);
    }

    // =========================================================================
    // Hooks into the rounds (implemented by FLProtocol)
    // =========================================================================

    /// @dev The round currently open (0 before training starts).
    function _openRoundId() internal view virtual returns (uint256);

    /// @dev True once round 0 has been opened.
    function _trainingStarted() internal view virtual returns (bool);

    /// @dev True once `round` has been finalized.
    function _isFinalized(uint256 round) internal view virtual returns (bool);

    /// @dev The `Outcome` word of the finalized `round` (0 for a round not finalized).
    function _outcomeOf(uint256 round) internal view virtual returns (uint256);

    /// @dev The lower median score of update `index` of the finalized `round`.
    function _medianOf(uint256 round, uint256 index) internal view virtual returns (uint256);

    /// @dev Client `index` joined (`more`) or left without having submitted. While the open round
    /// is in its submit phase, keeps its expected submissions equal to the clients that have
    /// submitted or still may (joiners count unless clients are sampled, leavers who had not
    /// submitted and were in the sample don't); closes the phase once nobody else is expected.
    /// Reverts `ClientSlotsFull` when a joiner would not fit the round.
    function _expectOneMore(bool more, uint256 index) internal virtual;
}
