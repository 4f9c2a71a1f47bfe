// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLProtocol} from "../FLProtocol.sol";
import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Update slots are made ready in bounded pages after deployment, before training.
contract FLPrepareTest is Fixture {
    /// Any number of slots: ceil(slots / PREPARE_PAGE) calls, each event counting up; training
    /// refused until the last one, and no call past it.
    function testFuzz_preparedInPages(uint16 slots) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.maxUpdatesPerRound = uint16(bound(slots, 1, protocol.MAX_UPDATES()));
        protocol = new FLProtocol(p, NAME, SYMBOL);
        uint256 page = protocol.PREPARE_PAGE();
        uint256 total = p.maxUpdatesPerRound;
        for (uint256 done = 0; done < total; done += page) {
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.SlotsNotPrepared.selector, done, total));
            protocol.startTraining();
            uint256 next = done + page < total ? done + page : total;
            vm.expectEmit();
            emit IFLProtocol.SlotsPrepared(next, total);
            protocol.prepareSlots();
        }
        (uint256 prepared, uint256 all) = protocol.slotsPrepared();
        assertEq(prepared, all, "all prepared");
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.SlotsAlreadyPrepared.selector, total));
        protocol.prepareSlots();
        protocol.startTraining();
        assertTrue(protocol.trainingStarted(), "started");
    }

    /// Only the admin prepares, and only before training.
    function testFuzz_onlyAdminBeforeTraining(address caller) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.maxUpdatesPerRound = uint16(protocol.PREPARE_PAGE() + 1);
        protocol = new FLProtocol(p, NAME, SYMBOL);
        if (caller != admin) {
            vm.expectRevert(
                abi.encodeWithSignature("AccessControlUnauthorizedAccount(address,bytes32)", caller, bytes32(0))
            );
            vm.prank(caller);
            protocol.prepareSlots();
        }
        prepare();
        protocol.startTraining();
        vm.expectRevert(IFLProtocol.TrainingAlreadyStarted.selector);
        protocol.prepareSlots();
    }

    /// A prepared page costs what its fresh slots cost, within the budget at the largest committee.
    function test_pageWithinBudget() public {
        IFLProtocol.TaskParams memory p = defaultParams();
        (p.maxUpdatesPerRound, p.committeeSize, p.quorum) = (uint16(protocol.MAX_UPDATES()), 16, 9);
        protocol = new FLProtocol(p, NAME, SYMBOL);
        uint256 before = gasleft();
        protocol.prepareSlots();
        uint256 used = before - gasleft();
        assertLe(used + 25_000, 5_000_000, "a page within the gas budget");
    }
}
