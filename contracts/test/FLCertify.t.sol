// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {Vm, vm} from "./utils/Vm.sol";

/// @notice Aggregate certification by the round's committee, disputes, and the views.
contract FLCertifyTest is Fixture {
    address[] internal members;

    function setUp() public override {
        super.setUp();
        started(2, 4);
        members = protocol.committee();
        fullRound(0, 2, 9000);
    }

    function attest(address who, bytes memory c) internal {
        vm.prank(who);
        protocol.certifyAggregate(0, c);
    }

    function test_quorumCertifies() public {
        bytes memory agg = cid(42);
        vm.prank(client(0));
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotAttester.selector, 0, client(0)));
        protocol.certifyAggregate(0, agg);
        attest(members[0], agg);
        assertEq(protocol.attestationOf(0, members[0]), keccak256(agg), "recorded");
        assertEq(protocol.certifiedAggregate(0).length, 0, "below quorum");
        attest(members[1], agg);
        assertEq(protocol.certifiedAggregate(0), agg, "certified");
        assertEq(protocol.attestationCount(0, keccak256(agg)), 2, "quorum of two");
        assertTrue(protocol.roundInfo(0).certified, "flag");
        vm.expectEmit();
        emit IFLProtocol.AggregateDisputed(0, members[2], cid(43), agg);
        attest(members[2], cid(43));
        assertEq(protocol.certifiedAggregate(0), agg, "certified CID never changes");
    }

    /// A member agreeing after certification is recorded, disputes nothing and changes nothing.
    function test_lateAgreeingAttestation() public {
        bytes memory agg = cid(42);
        attest(members[0], agg);
        attest(members[1], agg);
        vm.recordLogs();
        attest(members[2], agg);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "one event");
        assertEq(logs[0].topics[0], IFLProtocol.AggregateAttested.selector, "attested, not disputed");
        assertEq(protocol.attestationOf(0, members[2]), keccak256(agg), "recorded");
        assertEq(protocol.attestationCount(0, keccak256(agg)), 2, "not counted past certification");
        assertEq(protocol.certifiedAggregate(0), agg, "unchanged");
    }

    function testFuzz_attesterChecks(address who, bytes32 digest) public {
        vm.assume(digest != bytes32(0));
        vm.assume(!protocol.isCommitteeMember(0, who));
        bytes memory agg = bytes.concat(hex"1220", digest);
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotAttester.selector, 0, who));
        protocol.certifyAggregate(0, agg);
        attest(members[0], agg);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.AlreadyAttested.selector, 0, members[0]));
        protocol.certifyAggregate(0, agg);
    }

    function testFuzz_invalidAggregateCid(bytes memory c) public {
        vm.assume(c.length != 34 && c.length != 36);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InvalidCid.selector, c));
        protocol.certifyAggregate(0, c);
    }

    function testFuzz_onlyPreviousFinalizedRound(uint256 round) public {
        round = bound(round, 1, ROUNDS - 1);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.RoundNotFinalized.selector, round));
        protocol.certifyAggregate(round, cid(1));
        vm.warp(block.timestamp + SUBMIT + COMMIT + REVEAL);
        protocol.finalizeRound(1);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.CertificationClosed.selector, 0, 2));
        protocol.certifyAggregate(0, cid(1));
    }

    function test_views() public view {
        assertEq(protocol.currentRound(), 1, "round 1 open");
        assertTrue(protocol.isCommitteeMember(0, members[0]), "seat in round 0 remembered");
        address[] memory now_ = protocol.committee();
        assertEq(now_.length, 3, "committee of round 1");
        for (uint256 s = 0; s < now_.length; ++s) assertTrue(protocol.isCommitteeMember(1, now_[s]), "seat");
        assertFalse(protocol.isCommitteeMember(2, now_[0]), "future round");
        IFLProtocol.RoundInfo memory info = protocol.roundInfo(0);
        assertEq(uint256(info.phase), uint256(IFLProtocol.Phase.Finalized), "phase");
        assertEq(info.numSubmissions * 100 + info.numCommits * 10 + info.numReveals, 233, "counts");
        assertEq(info.numAccepted, 2, "accepted");
        assertEq(protocol.miners().length, 4, "miners");
    }

    /// Round seats alternate between the even and the odd slot of each miner.
    function test_seatsAcrossRounds() public {
        fullRound(1, 2, 1000);
        assertEq(protocol.currentRound(), 2, "round 2");
        address[] memory c2 = protocol.committee();
        for (uint256 s = 0; s < c2.length; ++s) assertTrue(protocol.isCommitteeMember(2, c2[s]), "even seat");
        assertFalse(protocol.isCommitteeMember(0, c2[0]), "round 0 seat overwritten by round 2");
    }
}
