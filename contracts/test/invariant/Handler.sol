// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLProtocol} from "../../FLProtocol.sol";
import {IFLProtocol} from "../../IFLProtocol.sol";
import {vm} from "../utils/Vm.sol";
import {Votes} from "../utils/Votes.sol";

/// @notice Drives whole rounds through random sequences of actions by a fixed set of actors,
/// and keeps ghost records that the invariants compare with the contract's state.
contract Handler {
    uint256 public constant ACTORS = 6;
    uint256 internal constant NONE = type(uint256).max;

    FLProtocol public immutable protocol;
    uint96 internal immutable _clientBond;
    uint96 internal immutable _minerBond;

    uint256 public deposits;
    uint256 public withdrawals;
    uint256 public finalizedRounds;
    uint256 public violations; // a second commit/reveal of a seat, a bond paid out of an open round, a wrong revert
    uint256 public refusedJoins; // registerClient refused with ClientSlotsFull
    uint256 public notSampledRefusals; // submitUpdate refused with NotSampled (clients are sampled)
    uint256 public lockedWithdrawals; // withdraw refused with BondLocked
    uint256 public pastEndRefusals; // finalizeRound(rounds) refused with TaskFinished
    uint256 public pages; // finalizeRound calls that took a page of steps
    uint256 public largestPage; // gas of the costliest finalizeRound page
    uint256 public claimed; // tokens minted to claimers, as the claims returned
    uint256 public claims; // successful claims
    mapping(uint256 round => bytes32) public frozen; // roundInfo (certified flag aside) at finalization
    mapping(uint256 round => bytes32) public certifiedHash;

    mapping(address => uint256) internal _clientLeftIn;
    mapping(address => uint256) internal _minerLeftIn;
    mapping(uint256 round => mapping(address => bool)) internal _committed;
    mapping(uint256 round => mapping(address => bool)) internal _revealed;
    mapping(uint256 round => mapping(address => uint16[])) internal _scores;

    constructor(FLProtocol protocol_) {
        protocol = protocol_;
        IFLProtocol.TaskParams memory p = protocol_.taskParams();
        (_clientBond, _minerBond) = (p.clientBond, p.minerBond);
    }

    function actor(uint256 i) public pure returns (address) {
        return address(uint160(0xB0000 + (i % ACTORS)));
    }

    function frozenInfo(uint256 round) public view returns (bytes32) {
        IFLProtocol.RoundInfo memory info = protocol.roundInfo(round);
        info.certified = false;
        return keccak256(abi.encode(info));
    }

    // --- actions -------------------------------------------------------------

    function registerClient(uint256 who, uint96 extra) external {
        address a = actor(who);
        (uint8 status, , , ) = protocol.clientInfo(a);
        if (status != 0) return;
        uint256 value = _clientBond + (extra % 1 ether);
        vm.deal(a, value);
        vm.prank(a);
        try protocol.registerClient{value: value}() {
            deposits += value;
            _clientLeftIn[a] = NONE;
        } catch (bytes memory err) {
            if (bytes4(err) != IFLProtocol.ClientSlotsFull.selector) ++violations;
            ++refusedJoins;
        }
    }

    function registerMiner(uint256 who, uint96 extra) external {
        address a = actor(who);
        (uint8 status, , ) = protocol.minerInfo(a);
        if (status != 0) return;
        uint256 value = _minerBond + (extra % 1 ether);
        vm.deal(a, value);
        vm.prank(a);
        protocol.registerMiner{value: value}();
        deposits += value;
        _minerLeftIn[a] = NONE;
    }

    function deregister(uint256 who) external {
        address a = actor(who);
        (uint8 cs, , , ) = protocol.clientInfo(a);
        (uint8 ms, , ) = protocol.minerInfo(a);
        if (cs != 1 && ms != 1) return;
        uint256 round = protocol.trainingStarted() ? protocol.currentRound() : NONE;
        vm.prank(a);
        protocol.deregister();
        if (cs == 1) _clientLeftIn[a] = round;
        if (ms == 1) _minerLeftIn[a] = round;
    }

    function withdraw(uint256 who) external {
        address a = actor(who);
        (uint8 cs, , , ) = protocol.clientInfo(a);
        (uint8 ms, , ) = protocol.minerInfo(a);
        uint256 before = a.balance;
        vm.prank(a);
        try protocol.withdraw() {
            withdrawals += a.balance - before;
            if (cs == 2 && !_closed(_clientLeftIn[a])) ++violations;
            if (ms == 2 && !_closed(_minerLeftIn[a])) ++violations;
        } catch (bytes memory err) {
            bytes4 e = bytes4(err);
            bool locked = (cs == 2 && !_closed(_clientLeftIn[a])) || (ms == 2 && !_closed(_minerLeftIn[a]));
            if (e == IFLProtocol.BondLocked.selector) {
                ++lockedWithdrawals;
                if (!locked) ++violations; // a free bond refused
            } else if (e == IFLProtocol.StillRegistered.selector) {
                if (cs != 1 && ms != 1) ++violations;
            } else if (e != IFLProtocol.NothingToWithdraw.selector || cs == 2 || ms == 2) {
                ++violations;
            }
        }
    }

    function submit(uint256 who, uint256 seed) external {
        uint256 round = protocol.currentRound();
        if (protocol.currentPhase(round) != IFLProtocol.Phase.Submit) return;
        address a = actor(who);
        (uint8 status, , , uint256 lastPlusOne) = protocol.clientInfo(a);
        if (status != 1 || lastPlusOne == round + 1) return;
        bytes memory c = abi.encodePacked(bytes4(0x01551220), keccak256(abi.encode(seed)));
        bool sampled = protocol.isSampled(round, a);
        vm.prank(a);
        if (sampled) return protocol.submitUpdate(round, c, 1 + (seed % 2000));
        try protocol.submitUpdate(round, c, 1 + (seed % 2000)) {
            ++violations; // an active client outside the sample submitted
        } catch (bytes memory err) {
            if (bytes4(err) != IFLProtocol.NotSampled.selector) ++violations;
            ++notSampledRefusals;
        }
    }

    function commit(uint256 seat, uint256 seed) external {
        uint256 round = protocol.currentRound();
        if (protocol.currentPhase(round) != IFLProtocol.Phase.Commit) return;
        address m = _member(seat);
        uint256 n = protocol.roundInfo(round).numSubmissions;
        uint16[] storage s = _scores[round][m];
        if (s.length == 0) {
            for (uint256 i = 0; i < n; ++i) s.push(uint16(uint256(keccak256(abi.encode(seed, i))) % 10_001));
        }
        bytes32 c = Votes.commitment(address(protocol), round, m, s, bytes32(uint256(uint160(m))));
        vm.prank(m);
        try protocol.commitVotes(round, c) {
            if (_committed[round][m]) ++violations;
            _committed[round][m] = true;
        } catch {}
    }

    function reveal(uint256 seat) external {
        uint256 round = protocol.currentRound();
        if (protocol.currentPhase(round) != IFLProtocol.Phase.Reveal) return;
        address m = _member(seat);
        vm.prank(m);
        try protocol.revealVotes(round, _scores[round][m], bytes32(uint256(uint160(m)))) {
            if (_revealed[round][m] || !_committed[round][m]) ++violations;
            _revealed[round][m] = true;
        } catch {}
    }

    /// One page of the current round's finalization; the bookkeeping once the round is finalized.
    function finalize() external {
        uint256 round = protocol.currentRound();
        if (protocol.taskFinished()) return _finalizePastTheEnd(round + 1);
        if (protocol.currentPhase(round) != IFLProtocol.Phase.Closed) return;
        bool[ACTORS] memory wasActive;
        for (uint256 i = 0; i < ACTORS; ++i) {
            (uint8 ms, , ) = protocol.minerInfo(actor(i));
            wasActive[i] = ms == 1;
        }
        (uint256 before, ) = protocol.finalizationProgress(round);
        uint256 g = gasleft();
        protocol.finalizeRound(round);
        g -= gasleft();
        if (g > largestPage) largestPage = g;
        ++pages;
        (uint256 done, uint256 total) = protocol.finalizationProgress(round);
        if (done <= before && total != 0) ++violations; // a page that took no step
        if (protocol.currentPhase(round) != IFLProtocol.Phase.Finalized) return;
        ++finalizedRounds;
        frozen[round] = frozenInfo(round);
        for (uint256 i = 0; i < ACTORS; ++i) {
            (uint8 ms, , ) = protocol.minerInfo(actor(i));
            if (wasActive[i] && ms == 2) _minerLeftIn[actor(i)] = round; // slashed below the bond
        }
    }

    /// An honest attester is a member of the round's committee (if any actor is); a dishonest one
    /// attests another CID, from any actor. Certifies the previous round, or the last one once finished.
    function certify(uint256 who, bool honest) external {
        uint256 round = protocol.currentRound();
        if (!protocol.taskFinished()) {
            if (round == 0) return;
            --round;
        }
        address a = actor(who);
        for (uint256 i = 0; honest && i < ACTORS && !protocol.isCommitteeMember(round, a); ++i) a = actor((who % ACTORS) + i);
        bytes memory c = abi.encodePacked(bytes4(0x01701220), keccak256(abi.encode(honest ? round : round + 7)));
        vm.prank(a);
        try protocol.certifyAggregate(round, c) {} catch {}
        bytes memory got = protocol.certifiedAggregate(round);
        if (got.length != 0 && certifiedHash[round] == bytes32(0)) certifiedHash[round] = keccak256(got);
    }

    /// Claims the actor's credit: the whole claimable amount is minted, or `NothingToClaim` when none.
    function claim(uint256 who) external {
        address a = actor(who);
        uint256 owed = protocol.claimable(a);
        vm.prank(a);
        try protocol.claim() returns (uint256 amount) {
            if (amount != owed || amount == 0 || protocol.claimable(a) != 0) ++violations;
            claimed += amount;
            ++claims;
        } catch (bytes memory err) {
            if (bytes4(err) != IFLProtocol.NothingToClaim.selector || owed != 0) ++violations;
        }
    }

    function warp(uint256 dt) external {
        vm.warp(block.timestamp + 1 + (dt % 120));
    }

    // --- helpers ----------------------------------------------------------------

    /// Once the task is finished, finalizing the round after the last must revert `TaskFinished`.
    function _finalizePastTheEnd(uint256 round) internal {
        try protocol.finalizeRound(round) {
            ++violations;
        } catch (bytes memory err) {
            if (bytes4(err) != IFLProtocol.TaskFinished.selector) ++violations;
            ++pastEndRefusals;
        }
    }

    function _member(uint256 seat) internal view returns (address) {
        address[] memory members = protocol.committee();
        return members.length == 0 ? actor(seat) : members[seat % members.length];
    }

    function _closed(uint256 round) internal view returns (bool) {
        return round == NONE || protocol.currentPhase(round) == IFLProtocol.Phase.Finalized;
    }
}
