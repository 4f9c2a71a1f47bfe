// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice The task's length: `rounds` rounds run, the last finalization opens none, and every
/// entry point refuses a round past the end with `TaskFinished`.
contract FLTaskEndTest is Fixture {
    function taskFinished(uint256 round, uint256 rounds) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IFLProtocol.TaskFinished.selector, round, rounds);
    }

    function testFuzz_taskRunsItsRounds(uint8 r) public {
        uint32 rounds = uint32(bound(r, 1, 5));
        IFLProtocol.TaskParams memory p = defaultParams();
        p.rounds = rounds;
        deploy(p);
        started(2, 3);
        for (uint256 i = 0; i + 1 < rounds; ++i) fullRound(i, 2, 9000);
        uint256 last = rounds - 1;
        assertFalse(protocol.taskFinished(), "not before the last round");
        submitAll(last, 2);
        voteAll(last, uniform(2, 9000));
        vm.expectEmit();
        emit IFLProtocol.TrainingFinished(rounds);
        protocol.finalizeRound(last);
        assertTrue(protocol.taskFinished(), "finished");
        assertEq(protocol.currentRound(), last, "stays on the last round");
        assertEq(phase(rounds), uint256(IFLProtocol.Phase.NotOpened), "no round past the end");
        assertEq(protocol.totalCredited(), rounds * (CLIENT_REWARD + MINER_REWARD), "every round credited in full");
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.RoundAlreadyFinalized.selector, last));
        protocol.finalizeRound(last);
        vm.expectRevert(taskFinished(rounds, rounds));
        protocol.finalizeRound(rounds);
        // The last round's aggregate is still certified by its committee.
        address[] memory m = protocol.committee();
        for (uint256 s = 0; s < 2; ++s) {
            vm.prank(m[s]);
            protocol.certifyAggregate(last, cid(77));
        }
        assertEq(protocol.certifiedAggregate(last), cid(77), "last aggregate certified");
    }

    /// Any round at or past `rounds` is refused by name, whoever calls and whatever the phase.
    function testFuzz_pastTheEndReverts(uint256 round, address who, bytes32 commitment) public {
        round = bound(round, ROUNDS, type(uint256).max);
        started(1, 3);
        uint16[] memory none = new uint16[](0);
        vm.startPrank(who);
        vm.expectRevert(taskFinished(round, ROUNDS));
        protocol.submitUpdate(round, cid(1), 1);
        vm.expectRevert(taskFinished(round, ROUNDS));
        protocol.commitVotes(round, commitment);
        vm.expectRevert(taskFinished(round, ROUNDS));
        protocol.revealVotes(round, none, commitment);
        vm.expectRevert(taskFinished(round, ROUNDS));
        protocol.finalizeRound(round);
        vm.expectRevert(taskFinished(round, ROUNDS));
        protocol.certifyAggregate(round, cid(1));
        vm.stopPrank();
        assertEq(protocol.currentRound(), 0, "nothing moved");
    }
}
