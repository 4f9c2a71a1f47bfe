// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Finalization: medians, acceptance, rewards, reputation and slashing.
contract FLSettlementTest is Fixture {
    uint256 internal constant N = 4;
    uint256 internal constant K = 3;

    function lowerMedian3(uint256 a, uint256 b, uint256 c) internal pure returns (uint256) {
        if (a > b) (a, b) = (b, a);
        if (b > c) (b, c) = (c, b);
        if (a > b) (a, b) = (b, a);
        return b;
    }

    /// Whole committee reveals fuzzed scores: medians decide, rewards split as specified.
    function testFuzz_outcomeAndRewards(uint16[12] memory raw) public {
        started(N, K);
        submitAll(0, N);
        address[] memory m = protocol.committee();
        uint16[][] memory s = new uint16[][](K);
        for (uint256 j = 0; j < K; ++j) {
            s[j] = new uint16[](N);
            for (uint256 i = 0; i < N; ++i) s[j][i] = uint16(bound(raw[j * N + i], 0, 10_000));
            commitAs(m[j], 0, s[j], bytes32(j));
        }
        for (uint256 j = 0; j < K; ++j) revealAs(m[j], 0, s[j], bytes32(j));
        protocol.finalizeRound(0);

        uint256[N] memory weight;
        uint256 total;
        uint256 accepted;
        for (uint256 i = 0; i < N; ++i) {
            uint256 med = lowerMedian3(s[0][i], s[1][i], s[2][i]);
            if (med < 5000) continue;
            accepted |= 1 << i;
            weight[i] = med; // the median alone: claimed samples earn nothing
            total += weight[i];
        }
        for (uint256 i = 0; i < N; ++i) {
            uint256 want = accepted & (1 << i) == 0 ? 0 : (CLIENT_REWARD * weight[i]) / total;
            assertEq(protocol.claimable(client(i)), want, "client reward credited");
            assertEq(token.balanceOf(client(i)), 0, "nothing minted before a claim");
            (, , uint256 rep, ) = protocol.clientInfo(client(i));
            assertEq(rep, accepted & (1 << i) == 0 ? 80 : 110, "client reputation");
        }
        for (uint256 j = 0; j < K; ++j) {
            uint256 agreed;
            for (uint256 i = 0; i < N; ++i) if ((s[j][i] >= 5000) == (accepted & (1 << i) != 0)) ++agreed;
            assertEq(protocol.claimable(m[j]), (MINER_REWARD * agreed) / (N * K), "miner reward credited");
            (, , uint256 rep) = protocol.minerInfo(m[j]);
            assertEq(rep, agreed * 2 >= N ? 105 : 90, "miner reputation");
        }
        assertEq(protocol.roundInfo(0).numAccepted, _popcount(accepted), "accepted count");
    }

    function _popcount(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; x >>= 1) c += x & 1;
    }

    /// Below quorum nothing is decided: no rewards, no client reputation change; absentees slashed.
    function test_undecidedRound() public {
        started(2, K);
        submitAll(0, 2);
        address[] memory m = protocol.committee();
        commitAs(m[0], 0, uniform(2, 9000), bytes32("a"));
        commitAs(m[1], 0, uniform(2, 9000), bytes32("b"));
        vm.warp(block.timestamp + COMMIT);
        revealAs(m[0], 0, uniform(2, 9000), bytes32("a"));
        vm.warp(block.timestamp + REVEAL);
        protocol.finalizeRound(0);
        assertEq(protocol.totalCredited(), 0, "nothing credited");
        (, , uint256 rep, ) = protocol.clientInfo(client(0));
        assertEq(rep, 100, "client untouched");
        (, , uint256 rep0) = protocol.minerInfo(m[0]);
        assertEq(rep0, 100, "revealer untouched");
        for (uint256 j = 1; j < K; ++j) {
            (uint8 status, uint256 bond, uint256 rep1) = protocol.minerInfo(m[j]);
            assertEq(bond, MINER_BOND / 2, "slashed half");
            assertEq(rep1, 50, "slash loss");
            assertEq(status, 2, "deactivated below bond");
        }
        assertEq(protocol.slashedTotal(), MINER_BOND, "two halves");
        assertEq(address(protocol).balance, 2 * CLIENT_BOND + 3 * MINER_BOND, "ether stays");
        vm.prank(m[1]);
        protocol.withdraw();
        assertEq(m[1].balance, MINER_BOND / 2, "remaining bond free after the round");
    }

    /// A member who left during the round and then went absent is slashed but not listed twice.
    function test_slashLeaver() public {
        started(1, K);
        submitAll(0, 1);
        address[] memory m = protocol.committee();
        vm.prank(m[2]);
        protocol.deregister();
        commitAs(m[0], 0, uniform(1, 9000), bytes32("a"));
        commitAs(m[1], 0, uniform(1, 9000), bytes32("b"));
        vm.warp(block.timestamp + COMMIT);
        revealAs(m[0], 0, uniform(1, 9000), bytes32("a"));
        revealAs(m[1], 0, uniform(1, 9000), bytes32("b"));
        protocol.finalizeRound(0);
        (uint8 status, uint256 bond, ) = protocol.minerInfo(m[2]);
        assertEq(uint256(status) * 10 ether + bond, 20 ether + MINER_BOND / 2, "left, slashed");
        assertEq(protocol.miners().length, 2, "listed once");
    }

    function test_noRewardsConfigured() public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.clientRewardPerRound = 0;
        p.minerRewardPerRound = 0;
        p.slashBps = 0;
        deploy(p);
        started(2, K);
        fullRound(0, 2, 9000);
        assertEq(protocol.totalCredited(), 0, "nothing credited");
        (, , uint256 rep, ) = protocol.clientInfo(client(0));
        assertEq(rep, 110, "reputation still moves");
    }

    /// Reputation sits at bit 96 of both records: 24 bits wide for a client, 32 for a miner.
    function _setReputation(address account, uint256 slot, uint32 rep) internal {
        bytes32 key = keccak256(abi.encode(account, slot));
        uint256 word = uint256(vm.load(address(protocol), key));
        uint256 mask = slot == SLOT_CLIENTS ? type(uint24).max : type(uint32).max;
        word = (word & ~(mask << 96)) | (uint256(rep) << 96);
        vm.store(address(protocol), key, bytes32(word));
    }

    /// Reputation saturates at MAX_REPUTATION and floors at 0 (clients) or 1 (miners).
    function test_reputationBounds() public {
        started(2, K);
        address[] memory m = protocol.committee();
        uint32 max = protocol.MAX_REPUTATION();
        _setReputation(client(0), SLOT_CLIENTS, max - 1);
        _setReputation(client(1), SLOT_CLIENTS, 3);
        _setReputation(m[0], SLOT_MINERS, max - 1);
        _setReputation(m[1], SLOT_MINERS, 3);
        submitAll(0, 2);
        uint16[] memory yesNo = new uint16[](2);
        yesNo[0] = 9000;
        commitAs(m[0], 0, yesNo, bytes32("a"));
        commitAs(m[1], 0, uniform(2, 0), bytes32("b")); // disagrees on update 0 and is reduced
        commitAs(m[2], 0, yesNo, bytes32("c")); // all committed: reveal opens at once
        revealAs(m[0], 0, yesNo, bytes32("a"));
        revealAs(m[1], 0, uniform(2, 0), bytes32("b"));
        revealAs(m[2], 0, yesNo, bytes32("c"));
        protocol.finalizeRound(0);
        (, , uint256 c0, ) = protocol.clientInfo(client(0));
        (, , uint256 c1, ) = protocol.clientInfo(client(1));
        (, , uint256 r0) = protocol.minerInfo(m[0]);
        (, , uint256 r1) = protocol.minerInfo(m[1]);
        assertEq(c0, max, "client capped");
        assertEq(c1, 1, "client floored at 1");
        assertEq(r0, max, "miner capped");
        assertEq(r1, 3 + 5, "agreed on half: gain");
    }

    function test_minerFloors() public {
        started(2, K);
        address[] memory m = protocol.committee();
        _setReputation(m[2], SLOT_MINERS, 3);
        _setReputation(m[1], SLOT_MINERS, 3);
        submitAll(0, 2);
        commitAs(m[0], 0, uniform(2, 0), bytes32("a"));
        commitAs(m[2], 0, uniform(2, 9000), bytes32("c"));
        commitAs(m[1], 0, uniform(2, 9000), bytes32("b")); // all committed: reveal opens at once
        revealAs(m[0], 0, uniform(2, 0), bytes32("a"));
        revealAs(m[2], 0, uniform(2, 9000), bytes32("c"));
        vm.warp(block.timestamp + REVEAL);
        protocol.finalizeRound(0);
        (, , uint256 r2) = protocol.minerInfo(m[2]);
        (, , uint256 r1) = protocol.minerInfo(m[1]);
        assertEq(r2, 1, "disagreeing miner floored at 1");
        assertEq(r1, 1, "slashed miner floored at 1");
    }

    /// A client's reward follows its median score only: the sample count it claims is ignored.
    function testFuzz_rewardIgnoresClaimedSamples(uint32 samples0, uint32 samples1, uint16 score) public {
        started(2, K);
        uint16 sc = uint16(bound(score, 5000, 10_000));
        vm.prank(client(0));
        protocol.submitUpdate(0, cid(1), bound(samples0, 1, type(uint32).max));
        vm.prank(client(1));
        protocol.submitUpdate(0, cid(2), bound(samples1, 1, type(uint32).max));
        voteAll(0, uniform(2, sc));
        protocol.finalizeRound(0);
        assertEq(protocol.claimable(client(0)), CLIENT_REWARD / 2, "half each");
        assertEq(protocol.claimable(client(1)), CLIENT_REWARD / 2, "whatever the samples");
    }

    /// An empty round settles nobody and opens the next round.
    function testFuzz_emptyRound(uint16 dt) public {
        started(1, K);
        vm.warp(block.timestamp + SUBMIT + bound(dt, 0, 1000));
        assertEq(phase(0), uint256(IFLProtocol.Phase.Closed), "closed without submissions");
        protocol.finalizeRound(0);
        assertEq(protocol.slashedTotal(), 0, "nobody slashed");
        assertEq(protocol.currentRound(), 1, "next");
    }
}
