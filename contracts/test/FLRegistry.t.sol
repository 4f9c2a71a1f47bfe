// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {FLProtocol} from "../FLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @dev A client whose withdrawal always fails (it refuses ether).
contract Refuser {
    function join(FLProtocol p) external payable {
        p.registerClient{value: msg.value}();
    }

    function quit(FLProtocol p) external {
        p.deregister();
        p.withdraw();
    }
}

/// @notice Registration, bonds, leaving and withdrawing.
contract FLRegistryTest is Fixture {
    /// @dev `a` registers with `register`, bonding `value`: true if it is registered, false if
    /// it was refused (expected below `minimum`) with `InsufficientBond`.
    function _bonded(
        address a,
        uint96 value,
        uint96 minimum,
        function() external payable register
    ) private returns (bool) {
        vm.deal(a, value);
        vm.prank(a);
        if (value < minimum) {
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InsufficientBond.selector, value, minimum));
            register{value: value}();
            return false;
        }
        register{value: value}();
        return true;
    }

    /// A client's bond is kept in 80 bits (see test_bondAboveUint80Reverts).
    function testFuzz_clientBond(uint80 value) public {
        address a = client(0);
        if (!_bonded(a, value, CLIENT_BOND, protocol.registerClient)) return;
        (uint8 status, uint256 bond, uint256 rep, ) = protocol.clientInfo(a);
        assertEq(status, 1, "active");
        assertEq(bond, value, "bond");
        assertEq(rep, protocol.INITIAL_REPUTATION(), "reputation");
        assertEq(protocol.activeClientCount(), 1, "count");
        assertEq(address(protocol).balance, value, "held");
    }

    function testFuzz_minerBond(uint96 value) public {
        address a = miner(0);
        if (!_bonded(a, value, MINER_BOND, protocol.registerMiner)) return;
        (uint8 status, uint256 bond, uint256 rep) = protocol.minerInfo(a);
        assertEq(status * 1000 + rep, 1100, "active with initial reputation");
        assertEq(bond, value, "bond");
        assertEq(protocol.miners()[0], a, "listed");
    }

    /// A client's bond is kept in 80 bits, a miner's in 96: a larger deposit is refused, not truncated.
    function test_bondAboveUint80Reverts() public {
        uint256 value = uint256(type(uint80).max) + 1;
        vm.deal(client(0), value);
        vm.prank(client(0));
        vm.expectRevert(abi.encodeWithSignature("SafeCastOverflowedUintDowncast(uint8,uint256)", 80, value));
        protocol.registerClient{value: value}();
        vm.prank(client(0));
        protocol.registerClient{value: value - 1}();
        (, uint256 bond, , ) = protocol.clientInfo(client(0));
        assertEq(bond, type(uint80).max, "largest client bond kept whole");
        value = uint256(type(uint96).max) + 1;
        vm.deal(miner(0), value);
        vm.prank(miner(0));
        vm.expectRevert(abi.encodeWithSignature("SafeCastOverflowedUintDowncast(uint8,uint256)", 96, value));
        protocol.registerMiner{value: value}();
    }

    function test_registerTwiceAndPending() public {
        registerClients(1);
        registerMiners(1);
        vm.deal(client(0), 10 ether);
        vm.deal(miner(0), 10 ether);
        _refused(client(0), protocol.registerClient, CLIENT_BOND, IFLProtocol.AlreadyRegistered.selector);
        _refused(miner(0), protocol.registerMiner, MINER_BOND, IFLProtocol.AlreadyRegistered.selector);
        protocol.startTraining();
        vm.prank(client(0));
        protocol.deregister();
        vm.prank(miner(0));
        protocol.deregister();
        _refused(client(0), protocol.registerClient, CLIENT_BOND, IFLProtocol.PendingWithdrawal.selector);
        _refused(miner(0), protocol.registerMiner, MINER_BOND, IFLProtocol.PendingWithdrawal.selector);
    }

    /// @dev `who` registering again with `register` and `bond` reverts with `error(who)`.
    function _refused(address who, function() external payable register, uint96 bond, bytes4 error) private {
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(error, who));
        register{value: bond}();
    }

    function test_tooManyMiners() public {
        uint256 max = protocol.MAX_MINERS();
        registerMiners(max);
        assertEq(protocol.miners().length, max, "full");
        vm.deal(miner(max), MINER_BOND);
        vm.prank(miner(max));
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.TooManyMiners.selector, max));
        protocol.registerMiner{value: MINER_BOND}();
    }

    function testFuzz_deregisterNobody(address who) public {
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotRegistered.selector, who));
        protocol.deregister();
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NothingToWithdraw.selector, who));
        protocol.withdraw();
    }

    /// Before training, a leaver's bonds are free at once; both roles are left together.
    function testFuzz_leaveBeforeTraining(uint96 extra) public {
        address a = client(0);
        uint256 cb = uint256(CLIENT_BOND) + (extra % 1 ether);
        vm.deal(a, cb + MINER_BOND);
        vm.startPrank(a);
        protocol.registerClient{value: cb}();
        protocol.registerMiner{value: MINER_BOND}();
        protocol.deregister();
        protocol.withdraw();
        vm.stopPrank();
        assertEq(a.balance, cb + MINER_BOND, "refunded");
        assertEq(address(protocol).balance, 0, "empty");
        assertEq(protocol.miners().length + protocol.activeClientCount(), 0, "gone");
        (uint8 status, , , ) = protocol.clientInfo(a);
        assertEq(status, 0, "none again");
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InsufficientBond.selector, 0, CLIENT_BOND));
        protocol.registerClient{value: 0}();
    }

    /// After training starts, bonds stay locked until the round left in is finalized.
    function testFuzz_bondLockedUntilFinalized(uint8 wait) public {
        started(2, 3);
        vm.prank(client(0));
        protocol.deregister();
        vm.prank(miner(0));
        protocol.deregister();
        vm.warp(block.timestamp + bound(wait, 0, SUBMIT + COMMIT + REVEAL + 10));
        vm.prank(client(0));
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.BondLocked.selector, client(0), 0));
        protocol.withdraw();
        vm.prank(miner(0));
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.BondLocked.selector, miner(0), 0));
        protocol.withdraw();
        vm.warp(block.timestamp + SUBMIT + COMMIT + REVEAL);
        protocol.finalizeRound(0);
        vm.prank(client(0));
        protocol.withdraw();
        vm.prank(miner(0));
        protocol.withdraw();
        assertEq(client(0).balance + miner(0).balance, CLIENT_BOND + MINER_BOND, "paid out");
    }

    function test_withdrawFailed() public {
        Refuser r = new Refuser();
        r.join{value: CLIENT_BOND}(protocol);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.WithdrawFailed.selector, address(r), CLIENT_BOND));
        r.quit(protocol);
    }

    /// A leaver who had not submitted stops being waited for; the last one closes the submit phase.
    function test_leaversCloseSubmitPhase() public {
        started(3, 3);
        vm.prank(client(0));
        protocol.submitUpdate(0, cid(7), 5);
        vm.prank(client(1));
        protocol.deregister();
        assertEq(protocol.roundInfo(0).expectedSubmissions, 2, "one less expected");
        assertEq(phase(0), uint256(IFLProtocol.Phase.Submit), "still open");
        vm.prank(client(0));
        protocol.deregister(); // had submitted: still counted
        assertEq(protocol.roundInfo(0).expectedSubmissions, 2, "submitter still counted");
        vm.prank(client(2));
        protocol.deregister();
        assertEq(phase(0), uint256(IFLProtocol.Phase.Commit), "closed early");
        vm.deal(client(9), CLIENT_BOND);
        vm.prank(client(9));
        protocol.registerClient{value: CLIENT_BOND}(); // outside Submit: no change
        assertEq(protocol.roundInfo(0).expectedSubmissions, 1, "unchanged outside submit");
    }

    function test_joinerIsExpected() public {
        started(1, 3);
        for (uint256 i = 5; i < 7; ++i) {
            vm.deal(client(i), CLIENT_BOND);
            vm.prank(client(i));
            protocol.registerClient{value: CLIENT_BOND}();
        }
        assertEq(protocol.roundInfo(0).expectedSubmissions, 3, "joiners expected");
    }

    /// At most maxUpdatesPerRound clients are active: the next one finds no slot, before or
    /// during training; a leaver frees its slot once it withdrew.
    function testFuzz_clientSlotsFull(uint8 extra, bool duringTraining) public {
        registerClients(MAX_UPDATES);
        registerMiners(3);
        if (duringTraining) protocol.startTraining();
        address late = client(MAX_UPDATES + bound(extra, 0, 50));
        vm.deal(late, 2 * CLIENT_BOND);
        vm.prank(late);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.ClientSlotsFull.selector, MAX_UPDATES));
        protocol.registerClient{value: CLIENT_BOND}();
        vm.prank(client(0));
        protocol.deregister();
        vm.prank(late);
        protocol.registerClient{value: CLIENT_BOND}();
        assertEq(protocol.activeClientCount(), MAX_UPDATES, "slot reused");
    }

    /// In a submit phase a leaver who had submitted keeps its slot in the round: a joiner that
    /// would not fit the round's updates is refused even though fewer clients are active.
    function testFuzz_roundSlotsFull(uint8 leavers) public {
        uint256 n = bound(leavers, 1, MAX_UPDATES - 1);
        started(MAX_UPDATES, 3);
        submitAll(0, n);
        for (uint256 i = 0; i < n; ++i) {
            vm.prank(client(i));
            protocol.deregister();
        }
        assertEq(protocol.activeClientCount(), MAX_UPDATES - n, "fewer active");
        assertEq(protocol.roundInfo(0).expectedSubmissions, MAX_UPDATES, "submitters still counted");
        vm.deal(client(99), CLIENT_BOND);
        vm.prank(client(99));
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.ClientSlotsFull.selector, MAX_UPDATES));
        protocol.registerClient{value: CLIENT_BOND}();
        vm.warp(block.timestamp + SUBMIT); // outside the submit phase the round's slots are not at stake
        vm.prank(client(99));
        protocol.registerClient{value: CLIENT_BOND}();
        assertEq(protocol.roundInfo(0).expectedSubmissions, MAX_UPDATES, "round unchanged");
    }

    /// An active client or miner has nothing to withdraw: `StillRegistered`, whatever else it holds.
    function testFuzz_withdrawWhileRegistered(bool asClient, bool started_) public {
        registerClients(1);
        registerMiners(1);
        address a = asClient ? client(0) : miner(0);
        if (started_) protocol.startTraining();
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.StillRegistered.selector, a));
        protocol.withdraw();
        vm.prank(a);
        protocol.deregister();
        if (started_) {
            vm.prank(a);
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.BondLocked.selector, a, 0));
            protocol.withdraw();
            return;
        }
        vm.prank(a);
        protocol.withdraw();
        assertEq(a.balance, asClient ? CLIENT_BOND : MINER_BOND, "refunded once left");
    }

    /// Unreachable by calls (a non-submitter is always expected): forced through storage.
    function test_leaveWithZeroExpected() public {
        registerClients(1);
        registerMiners(1);
        vm.store(address(protocol), bytes32(SLOT_ACTIVE_CLIENTS), bytes32(0));
        assertEq(protocol.activeClientCount(), 0, "slot of _activeClients");
        protocol.startTraining();
        vm.store(address(protocol), bytes32(SLOT_ACTIVE_CLIENTS), bytes32(uint256(1)));
        vm.prank(client(0));
        protocol.deregister();
        assertEq(protocol.roundInfo(0).expectedSubmissions, 0, "never below zero");
    }
}
