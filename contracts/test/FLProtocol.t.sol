// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {Fixture} from "./utils/Fixture.sol";
import {vm} from "./utils/Vm.sol";
import {Votes} from "./utils/Votes.sol";

/// @notice Rounds: start, submissions, phases, commit, reveal and finalization.
contract FLProtocolTest is Fixture {
    function notInPhase(uint256 round, IFLProtocol.Phase want, IFLProtocol.Phase got) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IFLProtocol.NotInPhase.selector, round, want, got);
    }

    function testFuzz_startTrainingAdminOnce(address caller) public {
        registerMiners(1);
        vm.assume(caller != admin);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSignature("AccessControlUnauthorizedAccount(address,bytes32)", caller, bytes32(0)));
        protocol.startTraining();
        assertFalse(protocol.trainingStarted(), "not started");
        assertEq(phase(0), uint256(IFLProtocol.Phase.NotOpened), "not opened");
        protocol.startTraining();
        assertTrue(protocol.trainingStarted(), "started");
        vm.expectRevert(IFLProtocol.TrainingAlreadyStarted.selector);
        protocol.startTraining();
    }

    function test_startWithoutMinersHasEmptyCommittee() public {
        registerClients(1);
        protocol.startTraining();
        assertEq(protocol.committee().length, 0, "no committee");
        submitAll(0, 1);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Closed), "no commit/reveal without a committee");
        protocol.finalizeRound(0);
        assertEq(protocol.roundInfo(0).numAccepted, 0, "undecided");
    }

    function testFuzz_submitRequiresActiveClient(address who) public {
        started(1, 3);
        vm.assume(who != client(0));
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotClient.selector, who));
        protocol.submitUpdate(0, cid(1), 1);
    }

    /// Every CID shape: only CIDv0 and CIDv1 raw/dag-pb with sha2-256 and a non-zero digest pass.
    function testFuzz_cidShapes(uint8 len, bytes4 prefix, bytes32 digest) public {
        started(1, 3);
        uint256 n = bound(len, 30, 40);
        bytes memory c = new bytes(n);
        for (uint256 i = 0; i < 4 && i < n; ++i) c[i] = prefix[i];
        uint256 off = n == 36 ? 2 : 0;
        for (uint256 i = 0; i < 32 && off + 2 + i < n; ++i) c[off + 2 + i] = digest[i];
        bool ok = digest != bytes32(0) &&
            ((n == 34 && c[0] == 0x12 && c[1] == 0x20) ||
                (n == 36 && c[0] == 0x01 && (c[1] == 0x55 || c[1] == 0x70) && c[2] == 0x12 && c[3] == 0x20));
        vm.prank(client(0));
        if (!ok) vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InvalidCid.selector, c));
        protocol.submitUpdate(0, c, 1);
    }

    function test_cidExamples() public {
        started(4, 3);
        bytes[4] memory good = [
            bytes.concat(hex"1220", bytes32(uint256(1))),
            bytes.concat(hex"01551220", bytes32(uint256(2))),
            bytes.concat(hex"01701220", bytes32(uint256(3))),
            cid(4)
        ];
        for (uint256 i = 0; i < 4; ++i) {
            vm.prank(client(i));
            protocol.submitUpdate(0, good[i], 1);
        }
        assertEq(protocol.roundInfo(0).numSubmissions, 4, "all accepted");
    }

    /// Samples 1..2^32-1 are taken: the event carries the full count and CID, and the round's
    /// first update slot (`_updates[0]`, no view since it was removed to fit the size limit)
    /// packs `client | samples << 160 | first 8 bytes of keccak256(cid) << 192`.
    function testFuzz_samples(uint256 samples) public {
        started(1, 3);
        vm.prank(client(0));
        if (samples == 0) vm.expectRevert(IFLProtocol.ZeroSamples.selector);
        else if (samples > type(uint32).max) {
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.TooManySamples.selector, samples, type(uint32).max));
        } else {
            vm.expectEmit();
            emit IFLProtocol.UpdateSubmitted(0, client(0), 0, cid(5), samples);
        }
        uint256 before = clientWord(client(0));
        protocol.submitUpdate(0, cid(5), samples);
        uint256 word = clientWord(client(0));
        if (samples == 0 || samples > type(uint32).max) {
            assertEq(word, before, "a refused update leaves the client's record alone");
            assertEq(protocol.roundInfo(0).numSubmissions, 0, "nothing submitted");
            return;
        }
        assertEq(uint32(word >> 120), 1, "submitted in round 0");
        assertEq(uint16(word >> 160), 1, "its update is index 0, to settle");
        assertEq(protocol.roundInfo(0).numSubmissions, 1, "one submission");
    }

    function test_submitTwiceAndWrongRound() public {
        started(2, 3);
        vm.startPrank(client(0));
        protocol.submitUpdate(0, cid(1), 1);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.AlreadySubmitted.selector, 0, client(0)));
        protocol.submitUpdate(0, cid(2), 1);
        vm.expectRevert(notInPhase(1, IFLProtocol.Phase.Submit, IFLProtocol.Phase.NotOpened));
        protocol.submitUpdate(1, cid(2), 1);
        vm.stopPrank();
        assertEq(protocol.roundInfo(0).numSubmissions, 1, "the refused submissions left no record");
        assertEq(uint16(clientWord(client(0)) >> 160), 1, "still its one update, index 0");
        (, , , uint256 last) = protocol.clientInfo(client(0));
        assertEq(last, 1, "submitted in round 0");
    }

    /// Phases advance by time alone when nobody acts; fuzzed instants land in the right phase.
    function testFuzz_phasesByTime(uint16 dt) public {
        started(2, 3);
        vm.prank(client(0));
        protocol.submitUpdate(0, cid(1), 1);
        uint256 t0 = block.timestamp;
        uint256 t = bound(dt, 0, SUBMIT + COMMIT + REVEAL + 100);
        vm.warp(t0 + t);
        IFLProtocol.RoundInfo memory info = protocol.roundInfo(0);
        assertEq(info.submitEnd, t0 + SUBMIT, "submit end");
        uint256 want = t < SUBMIT ? 1 : t < SUBMIT + COMMIT ? 2 : 4; // no commits: reveal is skipped
        assertEq(phase(0), want, "phase");
        if (want == 4) assertEq(info.revealEnd, info.commitEnd, "reveal skipped");
        else assertEq(info.revealEnd, info.commitEnd + REVEAL, "reveal scheduled");
    }

    function test_maxUpdatesClosesSubmit() public {
        started(MAX_UPDATES, 3);
        submitAll(0, MAX_UPDATES - 1);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Submit), "one slot left");
        vm.prank(client(MAX_UPDATES - 1));
        protocol.submitUpdate(0, cid(9), 1);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Commit), "full round closes submit");
        vm.prank(client(0));
        vm.expectRevert(notInPhase(0, IFLProtocol.Phase.Submit, IFLProtocol.Phase.Commit));
        protocol.submitUpdate(0, cid(10), 1);
    }

    function testFuzz_commitChecks(address outsider, bytes32 commitment) public {
        started(2, 5);
        address[] memory members = protocol.committee();
        vm.assume(!protocol.isCommitteeMember(0, outsider));
        vm.prank(members[0]);
        vm.expectRevert(notInPhase(0, IFLProtocol.Phase.Commit, IFLProtocol.Phase.Submit));
        protocol.commitVotes(0, commitment);
        submitAll(0, 2);
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotInCommittee.selector, 0, outsider));
        protocol.commitVotes(0, commitment);
        vm.prank(members[0]);
        if (commitment == bytes32(0)) {
            vm.expectRevert(IFLProtocol.EmptyCommitment.selector);
            protocol.commitVotes(0, commitment);
            return;
        }
        protocol.commitVotes(0, commitment);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.AlreadyCommitted.selector, 0, members[0]));
        protocol.commitVotes(0, commitment);
        assertEq(protocol.roundInfo(0).numCommits, 1, "one commit");
    }

    /// A zero commitment is refused by name (the fuzzed commitment above rarely draws zero).
    function test_emptyCommitment() public {
        started(1, 3);
        submitAll(0, 1);
        address m0 = protocol.committee()[0];
        vm.prank(m0);
        vm.expectRevert(IFLProtocol.EmptyCommitment.selector);
        protocol.commitVotes(0, bytes32(0));
        assertEq(protocol.roundInfo(0).numCommits, 0, "nothing committed");
    }

    function testFuzz_revealChecks(uint16[] memory scores, bytes32 salt, bytes32 wrongSalt) public {
        vm.assume(salt != wrongSalt);
        started(3, 3);
        submitAll(0, 3);
        address[] memory m = protocol.committee();
        uint16[] memory good = uniform(3, 7000);
        commitAs(m[0], 0, good, salt);
        commitAs(m[1], 0, good, salt);
        vm.prank(m[0]);
        vm.expectRevert(notInPhase(0, IFLProtocol.Phase.Reveal, IFLProtocol.Phase.Commit));
        protocol.revealVotes(0, good, salt);
        vm.warp(block.timestamp + COMMIT);
        vm.prank(m[2]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotCommitted.selector, 0, m[2]));
        protocol.revealVotes(0, good, salt);
        vm.prank(m[0]);
        if (scores.length != 3) {
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.WrongScoreCount.selector, scores.length, 3));
        } else {
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.CommitmentMismatch.selector, 0, m[0]));
        }
        protocol.revealVotes(0, scores, wrongSalt);
        revealAs(m[0], 0, good, salt);
        vm.prank(m[0]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.AlreadyRevealed.selector, 0, m[0]));
        protocol.revealVotes(0, good, salt);
        revealAs(m[1], 0, good, salt);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Closed), "all committed revealed");
    }

    function testFuzz_scoreOutOfRange(uint16 bad, uint8 pos) public {
        vm.assume(bad > 10_000);
        started(3, 3);
        submitAll(0, 3);
        uint16[] memory s = uniform(3, 1);
        s[pos % 3] = bad;
        address m0 = protocol.committee()[0];
        commitAs(m0, 0, s, bytes32("x"));
        vm.warp(block.timestamp + COMMIT);
        vm.prank(m0);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.ScoreOutOfRange.selector, pos % 3, bad));
        protocol.revealVotes(0, s, bytes32("x"));
    }

    function test_finalizeChecks() public {
        started(1, 3);
        vm.expectRevert(notInPhase(0, IFLProtocol.Phase.Closed, IFLProtocol.Phase.Submit));
        protocol.finalizeRound(0);
        fullRound(0, 1, 9000);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.RoundAlreadyFinalized.selector, 0));
        protocol.finalizeRound(0);
        assertEq(protocol.currentRound(), 1, "next round open");
        assertEq(phase(0), uint256(IFLProtocol.Phase.Finalized), "finalized");
    }

    /// The commitment a reveal is checked against binds chain id, contract, round, miner, scores
    /// and salt (`Votes.commitment`): one of them changed, the reveal is refused; none, it passes.
    function testFuzz_commitmentBindsEveryField(uint8 field, uint256 other) public {
        started(2, 3);
        submitAll(0, 2);
        address[] memory m = protocol.committee();
        uint16[] memory scores = uniform(2, 9000);
        bytes32 salt = bytes32("salt");
        uint256 f = field % 6;
        uint16[] memory committed = uniform(2, 9000);
        if (f == 4) committed[1] = uint16(bound(other, 0, 8999));
        address elsewhere = address(uint160(bound(other, 1, type(uint160).max)) ^ uint160(address(protocol)));
        bytes32 c = keccak256(
            abi.encode(
                f == 0 ? block.chainid + bound(other, 1, 1e6) : block.chainid,
                f == 1 ? elsewhere : address(protocol),
                f == 2 ? bound(other, 1, type(uint256).max) : 0,
                f == 3 ? m[1] : m[0],
                committed,
                f == 5 ? bytes32(bound(other, 1, type(uint256).max) ^ uint256(salt)) : salt
            )
        );
        vm.prank(m[0]);
        protocol.commitVotes(0, c);
        vm.prank(m[1]);
        protocol.commitVotes(0, Votes.commitment(address(protocol), 0, m[1], scores, salt));
        commitAs(m[2], 0, scores, salt); // all committed: reveal opens at once
        vm.prank(m[0]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.CommitmentMismatch.selector, 0, m[0]));
        protocol.revealVotes(0, scores, salt);
        revealAs(m[1], 0, scores, salt); // the helper's commitment is the one the contract checks
        assertEq(protocol.roundInfo(0).numReveals, 1, "only the matching reveal counted");
    }

    /// The reveal hashes its scores straight from calldata: a score word with bits above 16 can
    /// match a commitment computed over those very bytes, and the reveal still refuses it.
    function testFuzz_dirtyScoreWordReverts(uint256 high) public {
        started(2, 3);
        submitAll(0, 2);
        address[] memory m = protocol.committee();
        uint256[] memory dirty = new uint256[](2);
        (dirty[0], dirty[1]) = (9000, (bound(high, 1, type(uint240).max) << 16) | 9000);
        bytes32 salt = bytes32("s");
        bytes32 c = keccak256(abi.encode(block.chainid, address(protocol), uint256(0), m[0], dirty, salt));
        vm.prank(m[0]);
        protocol.commitVotes(0, c);
        for (uint256 s = 1; s < 3; ++s) commitAs(m[s], 0, uniform(2, 9000), bytes32(s));
        vm.prank(m[0]);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.ScoreOutOfRange.selector, 1, dirty[1]));
        (bool ok, ) = address(protocol).call(
            abi.encodeWithSelector(protocol.revealVotes.selector, uint256(0), dirty, salt)
        );
        assertTrue(ok, "expectRevert turns the refusal into success");
        assertEq(protocol.roundInfo(0).numReveals, 0, "nothing revealed");
    }
}
