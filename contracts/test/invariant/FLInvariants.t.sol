// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../../IFLProtocol.sol";
import {Fixture} from "../utils/Fixture.sol";
import {Handler} from "./Handler.sol";

/// @notice Invariants over random sequences of whole rounds driven by {Handler}.
contract FLInvariantsTest is Fixture {
    /// A short task (campaigns reach its end) with fewer client slots than actors.
    uint32 internal constant TASK_ROUNDS = 6;
    uint16 internal constant SLOTS = 4;

    Handler internal handler;

    function setUp() public override {
        super.setUp();
        IFLProtocol.TaskParams memory p = defaultParams();
        (p.rounds, p.maxUpdatesPerRound, p.clientsPerRound) = (TASK_ROUNDS, SLOTS, clientsPerRound());
        deploySmallPages(p); // rounds of up to 4 updates take up to 3 pages
        assertLe(protocol.MAX_UPDATES(), 1 << 16, "agreement counts fit 16 bits");
        handler = new Handler(protocol);
        for (uint256 i = 0; i < 4; ++i) handler.registerClient(i, 0);
        for (uint256 i = 2; i < 6; ++i) handler.registerMiner(i, 0);
        protocol.startTraining();
        targetContract(address(handler));
        bytes4[] memory s = new bytes4[](12);
        s[0] = Handler.registerClient.selector;
        s[1] = Handler.registerMiner.selector;
        s[2] = Handler.deregister.selector;
        s[3] = Handler.withdraw.selector;
        s[4] = Handler.submit.selector;
        s[5] = Handler.commit.selector;
        s[6] = Handler.reveal.selector;
        s[7] = Handler.finalize.selector;
        s[8] = Handler.certify.selector;
        s[9] = Handler.warp.selector;
        s[10] = Handler.submit.selector; // submissions twice as likely: rounds have updates to score
        s[11] = Handler.claim.selector;
        targetSelectors(address(handler), s);
    }

    /// 0: every active client trains every round (see FLInvariantsSampledTest).
    function clientsPerRound() internal pure virtual returns (uint16) {
        return 0;
    }

    /// One campaign checks every property (forge runs a campaign per invariant function).
    function invariant_protocol() public view {
        _etherHeldIsBondsPlusSlashed();
        _etherIsDepositsMinusWithdrawals();
        _supplyBoundedByFinalizedRounds();
        _supplyIsWhatWasClaimed();
        _pagesWithinBudget();
        _oneCommitAndRevealPerSeat();
        _finalizedRoundsFrozenAndCertifiedCidFixed();
        _reputationWithinBounds();
        _submissionsWithinTheRound();
    }

    /// The handler drives whole rounds: 200 seeded random actions finalize several rounds, and
    /// every property holds at the end. (Not an `afterInvariant` check: that would also judge
    /// the short sequences forge shrinks a failure to, and hide the failing property.)
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_handlerDrivesWholeRounds(uint256 seed) public virtual {
        _drive(seed, 200);
        assertGe(handler.finalizedRounds(), 2, "rounds finalized");
        invariant_protocol();
    }

    /// A longer fixed sequence reaches the task's end and every refusal the handler checks by name:
    /// `ClientSlotsFull` (more actors than slots; with sampling none, but `NotSampled`),
    /// `BondLocked` and `TaskFinished`.
    function test_campaignReachesEveryRefusal() public {
        _drive(1, 600);
        for (uint256 i = 0; i < handler.ACTORS(); ++i) handler.claim(i); // everyone claims at the end
        assertTrue(protocol.taskFinished(), "task finished");
        if (clientsPerRound() == 0) {
            assertGe(handler.refusedJoins(), 1, "ClientSlotsFull met");
            assertEq(handler.notSampledRefusals(), 0, "everyone sampled");
        } else {
            assertEq(handler.refusedJoins(), 0, "no slot cap on registration");
            assertGe(handler.notSampledRefusals(), 1, "NotSampled met");
        }
        assertGe(handler.lockedWithdrawals(), 1, "BondLocked met");
        assertGe(handler.pastEndRefusals(), 1, "TaskFinished met");
        if (protocol.totalCredited() != 0) assertGe(handler.claims(), 1, "rewards claimed");
        invariant_protocol();
    }

    function _drive(uint256 seed, uint256 steps) internal {
        for (uint256 i = 0; i < steps; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 op = r % 11;
            if ((r >> 64) % 8 == 0) handler.claim(r >> 72); // a claim now and then, besides the action
            if (op == 0) handler.registerClient(r >> 8, uint96(r >> 16));
            else if (op == 1) handler.registerMiner(r >> 8, uint96(r >> 16));
            else if (op == 2) handler.deregister(r >> 8);
            else if (op == 3) handler.withdraw(r >> 8);
            else if (op == 4) handler.commit(r >> 8, r >> 16);
            else if (op == 5) handler.reveal(r >> 8);
            else if (op == 6) handler.finalize();
            else if (op == 7) handler.certify(r >> 8, (r >> 16) % 4 != 0);
            else if (op == 8) handler.warp(r >> 8);
            else handler.submit(r >> 8, r >> 16);
        }
    }

    function _bonds() internal view returns (uint256 total) {
        for (uint256 i = 0; i < handler.ACTORS(); ++i) {
            (, uint256 cb, , ) = protocol.clientInfo(handler.actor(i));
            (, uint256 mb, ) = protocol.minerInfo(handler.actor(i));
            total += cb + mb;
        }
    }

    function _etherHeldIsBondsPlusSlashed() internal view {
        assertEq(address(protocol).balance, _bonds() + protocol.slashedTotal(), "conservation");
    }

    function _etherIsDepositsMinusWithdrawals() internal view {
        assertEq(address(protocol).balance, handler.deposits() - handler.withdrawals(), "flow");
    }

    function _supplyBoundedByFinalizedRounds() internal view {
        uint256 perRound = CLIENT_REWARD + MINER_REWARD;
        // the round being finalized credits its clients page by page, before it counts as finalized
        (uint256 done, ) = protocol.finalizationProgress(protocol.currentRound());
        uint256 paid = handler.finalizedRounds() + (done != 0 && !protocol.taskFinished() ? 1 : 0);
        assertLe(protocol.totalCredited(), paid * perRound, "credited at most the rewards");
        uint256 finished = protocol.taskFinished() ? 1 : 0;
        assertEq(handler.finalizedRounds(), protocol.currentRound() + finished, "one finalization per round");
        assertLe(handler.finalizedRounds(), TASK_ROUNDS, "no round past the task's end");
    }

    /// Token supply == total claimed (the claims' own amounts); claimed <= credited; what every
    /// account may still claim is credited - claimed, less the clients' shares rounded down
    /// (under one unit per update of every finalized round).
    function _supplyIsWhatWasClaimed() internal view {
        assertEq(token.totalSupply(), protocol.totalClaimed(), "supply == total claimed");
        assertEq(handler.claimed(), protocol.totalClaimed(), "claims add up");
        assertLe(protocol.totalClaimed(), protocol.totalCredited(), "claimed <= credited");
        uint256 owed;
        for (uint256 i = 0; i < handler.ACTORS(); ++i) owed += protocol.claimable(handler.actor(i));
        uint256 unclaimed = protocol.totalCredited() - protocol.totalClaimed();
        assertLe(owed, unclaimed, "claimable <= credited - claimed");
        uint256 shares = handler.finalizedRounds() * protocol.taskParams().maxUpdatesPerRound;
        assertLe(unclaimed - owed, shares, "only rounding dust is never claimable");
    }

    /// No finalizeRound page exceeds the gas budget of any transaction (docs/protocol.md), and a
    /// round took at least one page.
    function _pagesWithinBudget() internal view {
        assertLe(handler.largestPage(), 5_000_000, "page within the gas budget");
        assertGe(handler.pages(), handler.finalizedRounds(), "a page per finalized round at least");
    }

    function _oneCommitAndRevealPerSeat() internal view {
        assertEq(handler.violations(), 0, "second commit/reveal, or bond paid from an open round");
        for (uint256 r = 0; r <= protocol.currentRound(); ++r) {
            IFLProtocol.RoundInfo memory info = protocol.roundInfo(r);
            assertLe(info.numCommits, info.committeeSize, "commits <= seats");
            assertLe(info.numReveals, info.numCommits, "reveals <= commits");
        }
    }

    function _finalizedRoundsFrozenAndCertifiedCidFixed() internal view {
        for (uint256 r = 0; r < handler.finalizedRounds(); ++r) {
            assertEq(handler.frozenInfo(r), handler.frozen(r), "finalized round changed");
            bytes32 h = handler.certifiedHash(r);
            if (h != bytes32(0)) assertEq(keccak256(protocol.certifiedAggregate(r)), h, "certified CID changed");
        }
    }

    /// A round takes at most the updates it expects, within its slots (with sampling, at most K
    /// are expected: every registration takes a fresh index, so a client coming back mid-round is
    /// a joiner, outside the round's draw).
    function _submissionsWithinTheRound() internal view {
        uint256 k = clientsPerRound();
        for (uint256 r = 0; r <= protocol.currentRound(); ++r) {
            IFLProtocol.RoundInfo memory info = protocol.roundInfo(r);
            assertLe(info.numSubmissions, info.expectedSubmissions, "submissions <= expected");
            assertLe(info.expectedSubmissions, k == 0 ? SLOTS : k, "expected <= slots (K)");
        }
        uint256 drawn;
        for (uint256 i = 0; i < handler.ACTORS(); ++i) {
            if (protocol.isSampled(protocol.currentRound(), handler.actor(i))) ++drawn;
        }
        assertLe(drawn, k == 0 ? SLOTS : k, "sampled <= K");
    }

    function _reputationWithinBounds() internal view {
        uint256 max = protocol.MAX_REPUTATION();
        for (uint256 i = 0; i < handler.ACTORS(); ++i) {
            (, , uint256 cr, ) = protocol.clientInfo(handler.actor(i));
            (uint8 ms, , uint256 mr) = protocol.minerInfo(handler.actor(i));
            assertLe(cr, max, "client reputation");
            assertLe(mr, max, "miner reputation");
            if (ms != 0) assertGe(mr, 1, "miner reputation floor");
        }
    }
}

/// @notice The same campaigns on a task drawing 2 of its clients a round (up to 6 actors register).
contract FLInvariantsSampledTest is FLInvariantsTest {
    function clientsPerRound() internal pure override returns (uint16) {
        return 2;
    }

    /// (Inline configuration is not inherited: the same number of runs as the base campaign.)
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_handlerDrivesWholeRounds(uint256 seed) public override {
        super.testFuzz_handlerDrivesWholeRounds(seed);
    }
}
