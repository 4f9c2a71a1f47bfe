// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Finalization writes no client record: a client's reputation and reward for an update
/// are stored by its own next transaction (submit, claim, deregister, withdraw), from the round's
/// stored outcome, and every view counts them as soon as the round is finalized.
contract FLLazySettlementTest is Fixture {
    /// The client's stored reputation, owed reward and pending update (index + 1; 0: none).
    function _stored(address who) internal view returns (uint256 rep, uint256 owed, uint256 pending) {
        uint256 word = clientWord(who);
        return (uint24(word >> 96), uint80(word >> 176), uint16(word >> 160));
    }

    function _reputation(address who) internal view returns (uint256 rep) {
        (, , rep, ) = protocol.clientInfo(who);
    }

    function _yesNo() internal pure returns (uint16[] memory s) {
        s = new uint16[](2);
        s[0] = 9000;
        s[1] = 1000;
    }

    /// One client submits `round` alone, after the submit phase waited for the other; all vote `score`.
    function _alone(address who, uint256 round, uint16 score) internal {
        vm.prank(who);
        protocol.submitUpdate(round, cid(round), 1);
        vm.warp(block.timestamp + SUBMIT);
        voteAll(round, uniform(1, score));
        protocol.finalizeRound(round);
    }

    function _assertStored(address who, uint256 rep, uint256 owed, uint256 pending, string memory what) internal view {
        (uint256 r, uint256 o, uint256 p) = _stored(who);
        assertEq(r, rep, string.concat(what, ": stored reputation"));
        assertEq(o, owed, string.concat(what, ": stored reward"));
        assertEq(p, pending, string.concat(what, ": pending update"));
    }

    function test_settledByTheNextSubmission() public {
        started(2, 3);
        submitAll(0, 2);
        voteAll(0, _yesNo());
        protocol.finalizeRound(0);
        _assertStored(client(0), 100, 0, 1, "finalized, not yet settled");
        _assertStored(client(1), 100, 0, 2, "finalized, not yet settled");
        assertEq(_reputation(client(0)), 110, "the view counts the accepted update");
        assertEq(_reputation(client(1)), 80, "and the rejected one");
        assertEq(protocol.claimable(client(0)), CLIENT_REWARD, "the only accepted update takes the reward");
        assertEq(protocol.claimable(client(1)), 0, "nothing for a rejected update");
        submitAll(1, 2);
        _assertStored(client(0), 110, CLIENT_REWARD, 1, "settled by its next submission");
        _assertStored(client(1), 80, 0, 2, "settled by its next submission");
        assertEq(_reputation(client(0)), 110, "the view is unchanged by settling");
    }

    /// A client that sat out rounds is settled from its round's stored outcome, however old.
    function test_settledAfterSkippedRounds() public {
        started(2, 3);
        fullRound(0, 2, 9000);
        _alone(client(1), 1, 9000);
        _alone(client(1), 2, 2000);
        _assertStored(client(0), 100, 0, 1, "two rounds later, still pending");
        assertEq(protocol.claimable(client(0)), CLIENT_REWARD / 2, "half of round 0's reward");
        vm.prank(client(0));
        protocol.submitUpdate(3, cid(3), 1);
        _assertStored(client(0), 110, CLIENT_REWARD / 2, 1, "settled from round 0");
        assertEq(_reputation(client(1)), 100 + 10 + 10 - 20, "accepted, accepted, rejected");
        assertEq(protocol.claimable(client(1)), CLIENT_REWARD / 2 + CLIENT_REWARD, "rounds 0 and 1");
    }

    /// A claim settles a finalized pending update; one of the open round waits for its round.
    function test_claimSettlesOnlyFinalizedRounds() public {
        started(2, 3);
        fullRound(0, 2, 9000);
        submitAll(1, 2); // settles round 0
        vm.prank(client(0));
        assertEq(protocol.claim(), CLIENT_REWARD / 2, "round 0 only");
        _assertStored(client(0), 110, 0, 1, "round 1's update still pending");
        assertEq(protocol.claimable(client(0)), 0, "nothing more before round 1 is finalized");
        voteAll(1, uniform(2, 9000));
        protocol.finalizeRound(1);
        assertEq(protocol.claimable(client(0)), CLIENT_REWARD / 2, "round 1's share");
        vm.prank(client(0));
        assertEq(protocol.claim(), CLIENT_REWARD / 2, "claimed");
        _assertStored(client(0), 120, 0, 0, "settled by the claim");
        assertEq(token.balanceOf(client(0)), CLIENT_REWARD, "both rounds minted");
    }

    /// The last round's update is settled by a claim once the task is over.
    function test_lastRoundSettledOnceTheTaskIsOver() public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.rounds = 1;
        deploy(p);
        started(2, 3);
        fullRound(0, 2, 9000);
        assertTrue(protocol.taskFinished(), "over");
        assertEq(_reputation(client(0)), 110, "counted");
        vm.prank(client(0));
        assertEq(protocol.claim(), CLIENT_REWARD / 2, "its share");
        _assertStored(client(0), 110, 0, 0, "settled");
    }

    /// Leaving settles a pending update of a finalized round at once; one of the open round is
    /// settled when the bond is withdrawn, after that round is finalized.
    function test_leavingSettles() public {
        started(2, 3);
        fullRound(0, 2, 9000);
        vm.prank(client(1));
        protocol.submitUpdate(1, cid(9), 1); // settles its round 0
        vm.prank(client(0));
        protocol.deregister();
        _assertStored(client(0), 110, CLIENT_REWARD / 2, 0, "settled on leaving");
        vm.prank(client(1));
        protocol.deregister();
        _assertStored(client(1), 110, CLIENT_REWARD / 2, 1, "round 1 still open");
        assertEq(protocol.claimable(client(1)), CLIENT_REWARD / 2, "round 1 not counted yet");
        voteAll(1, uniform(1, 9000));
        protocol.finalizeRound(1);
        assertEq(protocol.claimable(client(1)), CLIENT_REWARD / 2 + CLIENT_REWARD, "counted once finalized");
        vm.prank(client(1));
        protocol.withdraw();
        _assertStored(client(1), 120, CLIENT_REWARD / 2 + CLIENT_REWARD, 0, "settled by the withdrawal");
        vm.prank(client(1));
        assertEq(protocol.claim(), CLIENT_REWARD / 2 + CLIENT_REWARD, "a withdrawn client still claims");
    }

    /// Below the quorum a round changes no client: the update is settled to nothing.
    function test_undecidedRoundChangesNoClient() public {
        started(2, 3);
        submitAll(0, 2);
        address[] memory m = protocol.committee();
        commitAs(m[0], 0, uniform(2, 9000), bytes32("a"));
        vm.warp(block.timestamp + COMMIT);
        revealAs(m[0], 0, uniform(2, 9000), bytes32("a"));
        vm.warp(block.timestamp + REVEAL);
        protocol.finalizeRound(0);
        assertEq(_reputation(client(0)), 100, "unchanged");
        assertEq(protocol.claimable(client(0)), 0, "no reward");
        submitAll(1, 2);
        _assertStored(client(0), 100, 0, 1, "settled to nothing; round 1's update pending");
        assertEq(protocol.totalCredited(), 0, "nothing granted");
    }

    /// The clients' shares of a round add up to its reward, less what rounding down leaves.
    function testFuzz_sharesAddUpToTheReward(uint16 a, uint16 b, uint16 c) public {
        started(3, 3);
        submitAll(0, 3);
        uint16[] memory s = new uint16[](3);
        (s[0], s[1], s[2]) = (uint16(bound(a, 0, 10_000)), uint16(bound(b, 0, 10_000)), uint16(bound(c, 0, 10_000)));
        voteAll(0, s);
        protocol.finalizeRound(0);
        uint256 owed;
        uint256 accepted;
        for (uint256 i = 0; i < 3; ++i) {
            owed += protocol.claimable(client(i));
            if (s[i] >= 5000) ++accepted;
        }
        uint256 granted = protocol.totalCredited() - (accepted == 0 ? 0 : CLIENT_REWARD);
        assertLe(owed, CLIENT_REWARD, "at most the round's reward");
        assertLe(accepted == 0 ? 0 : CLIENT_REWARD - owed, accepted, "under one unit lost per share");
        assertLe(granted, MINER_REWARD, "the rest is the committee's");
    }
}
