// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLProtocol} from "../FLProtocol.sol";
import {FLToken} from "../FLToken.sol";
import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Constructor validation of the task parameters and the reward token.
contract FLParamsTest is Fixture {
    function expectInvalid(IFLProtocol.TaskParams memory p, string memory name) internal {
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InvalidParameter.selector, name));
        new FLProtocol(p, NAME, SYMBOL);
    }

    function test_taskParamsRoundTrip() public view {
        IFLProtocol.TaskParams memory p = protocol.taskParams();
        assertEq(keccak256(abi.encode(p)), keccak256(abi.encode(defaultParams())), "task params");
        assertEq(protocol.token(), address(token), "token");
    }

    /// Every deployment creates a token of its own, minted by that deployment alone.
    function test_protocolCreatesItsToken() public {
        FLProtocol other = new FLProtocol(defaultParams(), "Other", "OTH");
        assertTrue(other.token() != address(token), "a token per task");
        assertEq(FLToken(other.token()).minter(), address(other), "minter is its protocol");
        assertEq(token.minter(), address(protocol), "fixture token minted by the fixture protocol");
        assertEq(keccak256(bytes(FLToken(other.token()).symbol())), keccak256("OTH"), "symbol");
    }

    function testFuzz_rounds(uint32 rounds) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.rounds = rounds;
        if (rounds == 0) return expectInvalid(p, "rounds");
        if (CLIENT_REWARD > protocol.MAX_TASK_REWARD() / rounds) return expectInvalid(p, "clientRewardPerRound");
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().rounds, rounds, "rounds kept");
    }

    /// A whole task's reward (rounds x reward per round) must fit the 88 bits a client's claim is kept in.
    function testFuzz_taskRewardFits(uint32 rounds, uint256 clientReward, uint256 minerReward) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.rounds = uint32(bound(rounds, 1, type(uint32).max));
        p.clientRewardPerRound = bound(clientReward, 0, type(uint96).max);
        p.minerRewardPerRound = bound(minerReward, 0, type(uint96).max);
        uint256 max = protocol.MAX_TASK_REWARD();
        if (p.clientRewardPerRound * p.rounds > max) return expectInvalid(p, "clientRewardPerRound");
        if (p.minerRewardPerRound * p.rounds > max) return expectInvalid(p, "minerRewardPerRound");
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().clientRewardPerRound, p.clientRewardPerRound, "kept");
    }

    function testFuzz_committeeAndQuorum(uint8 size, uint8 quorum) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.committeeSize = size;
        p.quorum = quorum;
        if (size == 0 || size > protocol.MAX_COMMITTEE()) return expectInvalid(p, "committeeSize");
        if (quorum == 0 || quorum > size) return expectInvalid(p, "quorum");
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().quorum, quorum, "quorum kept");
    }

    function testFuzz_threshold(uint16 threshold) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.acceptanceThreshold = threshold;
        if (threshold == 0 || threshold > 10_000) return expectInvalid(p, "acceptanceThreshold");
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().acceptanceThreshold, threshold, "kept");
    }

    function testFuzz_durations(uint32 s, uint32 c, uint32 r) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        (p.submitDuration, p.commitDuration, p.revealDuration) = (s, c, r);
        if (s == 0) return expectInvalid(p, "submitDuration");
        if (c == 0) return expectInvalid(p, "commitDuration");
        if (r == 0) return expectInvalid(p, "revealDuration");
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().revealDuration, r, "kept");
    }

    function testFuzz_sampleCapSlashAndUpdates(uint32 cap, uint16 slash, uint16 maxUpdates) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        maxUpdates = uint16(bound(maxUpdates, 0, protocol.MAX_UPDATES() + 100));
        (p.sampleCap, p.slashBps, p.maxUpdatesPerRound) = (cap, slash, maxUpdates);
        if (cap == 0) return expectInvalid(p, "sampleCap");
        if (slash > 10_000) return expectInvalid(p, "slashBps");
        if (maxUpdates == 0 || maxUpdates > protocol.MAX_UPDATES()) return expectInvalid(p, "maxUpdatesPerRound");
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().maxUpdatesPerRound, maxUpdates, "kept");
    }

    /// CID prefixes of the task parameters: every length and first bytes.
    function testFuzz_paramCids(uint8 len, bytes4 prefix, bool spec) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        bytes memory c = new bytes(bound(len, 0, 40));
        for (uint256 i = 0; i < c.length && i < 4; ++i) c[i] = prefix[i];
        bool ok = (c.length == 34 && c[0] == 0x12 && c[1] == 0x20) ||
            (c.length == 36 && c[0] == 0x01 && (c[1] == 0x55 || c[1] == 0x70) && c[2] == 0x12 && c[3] == 0x20);
        if (spec) p.specCid = c;
        else p.initialModelCid = c;
        if (!ok) return expectInvalid(p, spec ? "specCid" : "initialModelCid");
        new FLProtocol(p, NAME, SYMBOL);
    }

    function test_paramCidShapes() public {
        bytes[5] memory good = [
            bytes.concat(hex"1220", bytes32(0)),
            bytes.concat(hex"01551220", bytes32(0)),
            bytes.concat(hex"01701220", bytes32(uint256(7))),
            bytes.concat(hex"1220", bytes32(uint256(9))),
            cid(3)
        ];
        for (uint256 i = 0; i < good.length; ++i) {
            IFLProtocol.TaskParams memory p = defaultParams();
            p.initialModelCid = good[i];
            new FLProtocol(p, NAME, SYMBOL);
        }
        bytes[6] memory bad = [
            bytes.concat(hex"1320", bytes32(0)),
            bytes.concat(hex"1221", bytes32(0)),
            bytes.concat(hex"02551220", bytes32(0)),
            bytes.concat(hex"01561220", bytes32(0)),
            bytes.concat(hex"01551320", bytes32(0)),
            bytes.concat(hex"01551221", bytes32(0))
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            IFLProtocol.TaskParams memory p = defaultParams();
            p.specCid = bad[i];
            expectInvalid(p, "specCid");
        }
    }
}

/// @notice The reward token: only its creator (the protocol) mints, for good; no role to grant.
contract FLTokenTest is Fixture {
    function testFuzz_onlyMinterMints(address caller, address to, uint128 amount) public {
        vm.assume(caller != address(protocol) && to != address(0));
        vm.expectRevert(abi.encodeWithSelector(FLToken.NotMinter.selector, caller));
        vm.prank(caller);
        token.mint(to, amount);
        assertEq(token.totalSupply(), 0, "nothing minted");
    }

    function testFuzz_minterMints(address to, uint128 a, uint128 b) public {
        vm.assume(to != address(0));
        vm.startPrank(address(protocol));
        token.mint(to, a);
        token.mint(to, b);
        vm.stopPrank();
        assertEq(token.balanceOf(to), uint256(a) + b, "balance");
        assertEq(token.totalSupply(), uint256(a) + b, "supply");
    }

    /// Whoever creates a token is its minter, and nobody else ever is.
    function testFuzz_creatorIsPermanentMinter(address creator, address other) public {
        vm.assume(creator != other && creator != address(0) && other != address(0));
        vm.prank(creator);
        FLToken t = new FLToken("T", "T");
        assertEq(t.minter(), creator, "creator mints");
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(FLToken.NotMinter.selector, other));
        t.mint(other, 1);
        vm.prank(creator);
        t.mint(other, 1);
        assertEq(t.balanceOf(other), 1, "minted by the creator");
    }

    function test_metadata() public view {
        assertEq(keccak256(bytes(token.name())), keccak256("FL Reward"), "name");
        assertEq(keccak256(bytes(token.symbol())), keccak256("FLR"), "symbol");
        assertEq(token.decimals(), 18, "decimals");
    }
}
