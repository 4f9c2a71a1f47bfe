// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice The committee draw uses no block data: whoever opens a round, whenever (timestamp)
/// and in whichever block (number), gets the same committee. Only revealed salts move the seed.
contract FLCommitteeSeedTest is Fixture {
    uint256 internal constant CLIENTS = 2;
    uint256 internal constant MINERS = 8;

    /// Starts training at (t0, b0), runs round 0 with salts from `salt`, moves to (t1, b1) and
    /// finalizes. Returns the hashes of round 0's and round 1's committees.
    function runAt(uint256 t0, uint256 b0, uint256 t1, uint256 b1, bytes32 salt) internal returns (bytes32, bytes32) {
        vm.warp(t0);
        vm.roll(b0);
        protocol.startTraining();
        address[] memory c0 = protocol.committee();
        submitAll(0, CLIENTS);
        uint16[] memory scores = uniform(CLIENTS, 9000);
        for (uint256 s = 0; s < c0.length; ++s) commitAs(c0[s], 0, scores, keccak256(abi.encode(salt, s)));
        for (uint256 s = 0; s < c0.length; ++s) revealAs(c0[s], 0, scores, keccak256(abi.encode(salt, s)));
        vm.warp(t1);
        vm.roll(b1);
        protocol.finalizeRound(0);
        return (keccak256(abi.encode(c0)), keccak256(abi.encode(protocol.committee())));
    }

    function testFuzz_committeeIgnoresBlockTimeAndNumber(
        uint64[4] memory t,
        uint64[4] memory b,
        bytes32 salt
    ) public {
        registerClients(CLIENTS);
        registerMiners(MINERS);
        // Round timestamps are kept in 32 bits: every instant up to 2106 (t0 + 1e9 < 2^32).
        uint256 t0 = bound(t[0], 1, 3e9);
        uint256 u0 = bound(t[2], 1, 3e9);
        uint256 snap = vm.snapshotState();
        (bytes32 a0, bytes32 a1) = runAt(t0, b[0], t0 + bound(t[1], 0, 1e9), b[1], salt);
        vm.revertToState(snap);
        (bytes32 b0_, bytes32 b1_) = runAt(u0, b[2], u0 + bound(t[3], 0, 1e9), b[3], salt);
        assertEq(a0, b0_, "round 0's committee depends on when training starts");
        assertEq(a1, b1_, "round 1's committee depends on when round 0 is finalized");
        assertEq(protocol.committee().length, 3, "a committee of committeeSize");
    }
}
