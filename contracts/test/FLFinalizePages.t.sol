// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLProtocol} from "../FLProtocol.sol";
import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Paged finalization: any page size gives the same outcome, and no page of the largest
/// round (every update slot, a committee of 16) exceeds the gas budget.
contract FLFinalizePagesTest is Fixture {
    /// Gas any one transaction of the protocol may take (docs/protocol.md).
    uint256 internal constant GAS_BUDGET = 5_000_000;
    /// A transaction's intrinsic cost on top of what `gasleft()` sees (21,000 + calldata, rounded up).
    uint256 internal constant INTRINSIC = 25_000;
    uint256 internal constant N = 8;
    uint256 internal constant K = 3;

    event log_named_uint(string key, uint256 val);

    /// Finalizes `round` page by page (storage cooled before each, as in a transaction of its own);
    /// returns the number of pages and the largest page's gas.
    function finalizeInPages(uint256 round) internal returns (uint256 pages, uint256 largest) {
        while (phase(round) != uint256(IFLProtocol.Phase.Finalized)) {
            vm.cool(address(protocol));
            vm.cool(address(token));
            uint256 before = gasleft();
            protocol.finalizeRound(round);
            uint256 used = before - gasleft();
            used += INTRINSIC;
            if (used > largest) largest = used;
            ++pages;
        }
    }

    /// Seat s scores update i: decreasing with the seat (the median's sort does the most work),
    /// varied with the update by `spread`; with `spread` 0 every median stays above the threshold.
    function seatScores(uint256 n, uint256 s, uint256 spread) internal pure returns (uint16[] memory out) {
        out = new uint16[](n);
        for (uint256 i = 0; i < n; ++i) out[i] = uint16(10_000 - 300 * s - ((i * 7919 + spread) % (2000 + (spread % 4000))));
    }

    function voteEach(uint256 round, uint256 n, uint256 spread) internal {
        address[] memory m = protocol.committee();
        for (uint256 s = 0; s < m.length; ++s) commitAs(m[s], round, seatScores(n, s, spread), bytes32(s + 1));
        for (uint256 s = 0; s < m.length; ++s) revealAs(m[s], round, seatScores(n, s, spread), bytes32(s + 1));
    }

    /// 21,000 plus the calldata of `data` (4 gas a zero byte, 16 any other).
    function intrinsic(bytes memory data) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i = 0; i < data.length; ++i) gas += data[i] == 0 ? 4 : 16;
    }

    /// The largest round: every update slot filled, a committee of MAX_COMMITTEE. Every page of
    /// its finalization, and the largest reveal (one score per update), stay within the budget.
    /// (4096 registrations and submissions need more than forge's default gas: see foundry.toml.)
    function test_largestRoundPagesStayWithinBudget() public {
        IFLProtocol.TaskParams memory p = defaultParams();
        uint256 n = protocol.MAX_UPDATES();
        uint256 k = protocol.MAX_COMMITTEE();
        (p.maxUpdatesPerRound, p.committeeSize, p.quorum) = (uint16(n), uint8(k), uint8(k / 2 + 1));
        deploy(p);
        started(n, k);
        submitAll(0, n);
        address[] memory m = protocol.committee();
        for (uint256 s = 0; s < k; ++s) commitAs(m[s], 0, seatScores(n, s, 0), bytes32(s + 1));
        uint256 reveal;
        for (uint256 s = 0; s < k; ++s) {
            // encoded beforehand: what the test spends encoding is not the reveal's gas
            bytes memory call = abi.encodeCall(protocol.revealVotes, (0, seatScores(n, s, 0), bytes32(s + 1)));
            vm.cool(address(protocol));
            vm.prank(m[s]);
            (bool ok, ) = address(protocol).call(call);
            assertTrue(ok, "revealed");
            // measured in the callee's frame (the test's own memory does not count), plus the
            // transaction's intrinsic gas and the cold account access a transaction pays
            uint256 used = vm.lastCallGas().gasTotalUsed + intrinsic(call) + 2_600;
            if (used > reveal) reveal = used;
        }
        (uint256 pages, uint256 largest) = finalizeInPages(0);
        emit log_named_uint("pages", pages);
        emit log_named_uint("largest page gas", largest);
        emit log_named_uint("largest reveal gas", reveal);
        uint256 page = protocol.FINALIZE_PAGE();
        assertEq(pages, (n + page - 1) / page, "N steps, FINALIZE_PAGE per call");
        // The budget holds for the optimised build (foundry.toml, as deployed); `forge coverage`
        // builds without the optimizer, where gas is not what a deployment pays.
        if (!vm.isContext(2)) {
            assertLe(largest, GAS_BUDGET, "every page within the budget");
            assertLe(reveal, GAS_BUDGET, "the largest reveal within the budget");
        }
        assertEq(protocol.roundInfo(0).numAccepted, n, "every update accepted (the costlier scoring)");
        assertLe(protocol.totalCredited(), CLIENT_REWARD + MINER_REWARD, "credited at most the round's rewards");
    }

    /// Pages of 3 steps (misaligned with the 16-update words) give exactly the outcome of one page.
    function testFuzz_pageSizeChangesNothing(uint256 spread, bool quorate) public {
        spread = bound(spread, 0, 10_000);
        (FLProtocol big, address[] memory bigSeats) = _playRound(defaultParams(), spread, quorate, false);
        (FLProtocol small, address[] memory smallSeats) = _playRound(defaultParams(), spread, quorate, true);
        assertEq(big.roundInfo(0).numAccepted, small.roundInfo(0).numAccepted, "accepted");
        assertEq(big.totalCredited(), small.totalCredited(), "credited");
        for (uint256 i = 0; i < N; ++i) {
            assertEq(big.claimable(client(i)), small.claimable(client(i)), "client credit");
            (, , uint256 rb, ) = big.clientInfo(client(i));
            (, , uint256 rs, ) = small.clientInfo(client(i));
            assertEq(rb, rs, "client reputation");
        }
        for (uint256 j = 0; j < K; ++j) {
            // the draws differ (each deployment seeds its own): compare seat by seat
            (, uint256 bb, uint256 rb) = big.minerInfo(bigSeats[j]);
            (, uint256 bs, uint256 rs) = small.minerInfo(smallSeats[j]);
            assertEq(big.claimable(bigSeats[j]), small.claimable(smallSeats[j]), "miner credit");
            assertEq(keccak256(abi.encode(bb, rb)), keccak256(abi.encode(bs, rs)), "miner bond and reputation");
        }
    }

    /// Between pages the round stays Closed: nothing opens, bonds it holds stay locked, and the
    /// progress view counts the steps; the last page emits RoundFinalized.
    function test_betweenPagesTheRoundStaysClosed() public {
        deploySmallPages(defaultParams());
        started(N, K);
        submitAll(0, N);
        voteAll(0, uniform(N, 9000));
        vm.prank(client(0));
        protocol.deregister();
        protocol.finalizeRound(0);
        (uint256 done, uint256 total) = protocol.finalizationProgress(0);
        assertEq(done, 3, "one page done");
        assertEq(total, N, "one step per update");
        assertEq(phase(0), uint256(IFLProtocol.Phase.Closed), "still closed");
        assertEq(phase(1), uint256(IFLProtocol.Phase.NotOpened), "next round not open");
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.BondLocked.selector, client(0), 0));
        vm.prank(client(0));
        protocol.withdraw();
        for (uint256 c = 2; c < (N + 2) / 3; ++c) protocol.finalizeRound(0); // all pages but the last
        vm.expectEmit();
        emit IFLProtocol.RoundFinalized(0, N, N, K);
        protocol.finalizeRound(0);
        (done, total) = protocol.finalizationProgress(0);
        assertEq(done, total, "all done");
        assertEq(protocol.currentRound(), 1, "next round open");
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.RoundAlreadyFinalized.selector, 0));
        protocol.finalizeRound(0);
        (done, total) = protocol.finalizationProgress(1);
        assertEq(done + total, 0, "nothing submitted in round 1 yet");
    }

    /// Below the quorum the round is scored all the same (N steps), and nothing is accepted.
    function test_undecidedRoundTakesOnePass() public {
        deploySmallPages(defaultParams());
        started(N, K);
        submitAll(0, N);
        address[] memory m = protocol.committee();
        commitAs(m[0], 0, uniform(N, 9000), bytes32("a"));
        vm.warp(block.timestamp + COMMIT);
        revealAs(m[0], 0, uniform(N, 9000), bytes32("a"));
        vm.warp(block.timestamp + REVEAL);
        (uint256 pages, ) = finalizeInPages(0);
        assertEq(pages, (N + 2) / 3, "ceil(N / 3) pages");
        assertEq(protocol.roundInfo(0).numAccepted, 0, "nothing accepted");
        assertEq(protocol.totalCredited(), 0, "nothing credited");
    }

    /// One round of N updates, seats scoring `seatScores(spread)`, all revealing (or one short of
    /// the quorum), finalized in pages of FINALIZE_PAGE or of 3.
    function _playRound(
        IFLProtocol.TaskParams memory p,
        uint256 spread,
        bool quorate,
        bool smallPages
    ) internal returns (FLProtocol, address[] memory m) {
        if (smallPages) deploySmallPages(p);
        else deploy(p);
        started(N, K);
        submitAll(0, N);
        m = protocol.committee();
        for (uint256 s = 0; s < K; ++s) commitAs(m[s], 0, seatScores(N, s, spread), bytes32(s + 1));
        uint256 reveals = quorate ? K : 1;
        for (uint256 s = 0; s < reveals; ++s) revealAs(m[s], 0, seatScores(N, s, spread), bytes32(s + 1));
        if (!quorate) vm.warp(block.timestamp + REVEAL);
        finalizeInPages(0);
        return (protocol, m);
    }
}
