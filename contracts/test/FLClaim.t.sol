// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Rewards are credited at finalization and minted only when their owner claims them.
contract FLClaimTest is Fixture {
    function _claim(address who) internal returns (uint256) {
        vm.prank(who);
        return protocol.claim();
    }

    /// A claim mints the whole credit of every round so far, once; the next claim has nothing.
    function testFuzz_claimMintsTheWholeCredit(uint8 r) public {
        uint256 rounds = bound(r, 1, 4);
        started(2, 3);
        for (uint256 i = 0; i < rounds; ++i) fullRound(i, 2, 9000);
        uint256 owed = protocol.claimable(client(0));
        assertEq(owed, rounds * (CLIENT_REWARD / 2), "credited every round");
        assertEq(token.totalSupply(), 0, "nothing minted by finalization");
        vm.expectEmit();
        emit IFLProtocol.RewardsClaimed(client(0), owed);
        assertEq(_claim(client(0)), owed, "returns the amount");
        assertEq(token.balanceOf(client(0)), owed, "minted to the claimer");
        assertEq(protocol.claimable(client(0)), 0, "nothing left");
        assertEq(protocol.totalClaimed(), owed, "total claimed");
        assertEq(token.totalSupply(), protocol.totalClaimed(), "supply is what was claimed");
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NothingToClaim.selector, client(0)));
        _claim(client(0));
    }

    /// Every account's credit adds up to the rewards of the rounds; claiming them all mints exactly that.
    function test_everyCreditClaimed() public {
        started(2, 3);
        fullRound(0, 2, 9000);
        address[] memory m = protocol.committee();
        fullRound(1, 2, 9000);
        uint256 total = protocol.totalCredited();
        assertEq(total, 2 * (CLIENT_REWARD + MINER_REWARD), "two rounds credited in full");
        for (uint256 i = 0; i < 2; ++i) _claim(client(i));
        for (uint256 j = 0; j < 3; ++j) _claim(miner(j));
        assertEq(token.totalSupply(), total, "all minted");
        assertEq(protocol.totalClaimed(), total, "all claimed");
        assertTrue(m.length == 3, "committee of three");
    }

    /// An account that is client and miner claims both credits in one call.
    function test_clientAndMinerClaimTogether() public {
        address both = miner(0);
        vm.deal(both, CLIENT_BOND);
        vm.prank(both);
        protocol.registerClient{value: CLIENT_BOND}();
        registerClients(1);
        registerMiners(3);
        protocol.startTraining();
        vm.prank(both);
        protocol.submitUpdate(0, cid(7), 5);
        vm.prank(client(0));
        protocol.submitUpdate(0, cid(8), 5);
        voteAll(0, uniform(2, 9000));
        protocol.finalizeRound(0);
        uint256 owed = protocol.claimable(both);
        assertEq(owed, CLIENT_REWARD / 2 + MINER_REWARD / 3, "client share plus miner share");
        assertEq(_claim(both), owed, "one claim for both");
        assertEq(protocol.claimable(both), 0, "both cleared");
    }

    /// Nobody is owed anything before a round is finalized.
    function testFuzz_nothingToClaim(address who) public {
        started(2, 3);
        submitAll(0, 2);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NothingToClaim.selector, who));
        _claim(who);
    }
}
