// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLProtocol} from "../FLProtocol.sol";
import {IFLProtocol} from "../IFLProtocol.sol";
import {ClientSample} from "../libraries/ClientSample.sol";
import {SamplingFixture} from "./utils/SamplingFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Client sampling as clients come and go: joiners and leavers move a round's expected
/// submissions only as far as its draw is concerned; `isSampled` outside the open round; the
/// population's 16-bit cap; the parameters' bounds; the storage layout the tests rely on.
contract FLSamplingMembersTest is SamplingFixture {
    // --- joiners and leavers ------------------------------------------------------

    /// A client joining during a submit phase takes the next index, is outside the population the
    /// round draws from (not sampled, not expected), and joins the next round's population.
    function test_joinerDuringSubmitNeitherExpectedNorSampled() public {
        start(POPULATION);
        address joiner = client(POPULATION);
        vm.deal(joiner, CLIENT_BOND);
        vm.expectEmit();
        emit IFLProtocol.ClientRegistered(joiner, POPULATION, CLIENT_BOND, protocol.INITIAL_REPUTATION());
        vm.prank(joiner);
        protocol.registerClient{value: CLIENT_BOND}();
        assertEq(expected(0), K, "expected unchanged");
        assertEq(protocol.activeClientCount(), POPULATION + 1, "active");
        assertFalse(protocol.isSampled(0, joiner), "not in this round's population");
        vm.prank(joiner);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotSampled.selector, 0, joiner));
        protocol.submitUpdate(0, cid(1), 1);
        Opened memory o1 = runRound(0, sampleOf(0, POPULATION));
        assertEq(o1.population, POPULATION + 1, "next round's population counts the joiner");
        bool drawn = ClientSample.position(o1.seed, POPULATION + 1, POPULATION) < K;
        assertTrue(protocol.isSampled(1, joiner) == drawn, "drawn like anyone else");
        assertEq(sampleOf(1, POPULATION + 1).length, K, "still K");
    }

    /// Outside a submit phase a joiner changes no round either.
    function test_joinerOutsideSubmit() public {
        start(POPULATION);
        vm.warp(block.timestamp + SUBMIT);
        join(POPULATION, POPULATION + 1);
        assertEq(expected(0), K, "unchanged");
    }

    /// A client that was not drawn leaving changes nothing.
    function test_unsampledLeaverChangesNothing() public {
        start(POPULATION);
        address who = firstWith(0, POPULATION, false);
        vm.prank(who);
        protocol.deregister();
        assertEq(expected(0), K, "expected unchanged");
        assertEq(protocol.activeClientCount(), POPULATION - 1, "one less active");
        assertEq(phase(0), uint256(IFLProtocol.Phase.Submit), "still open");
    }

    /// A sampled client leaving before submitting is no longer waited for.
    function test_sampledLeaverLowersExpected() public {
        start(POPULATION);
        address[] memory s = sampleOf(0, POPULATION);
        vm.prank(s[0]);
        protocol.deregister();
        assertEq(expected(0), K - 1, "one less expected");
        assertFalse(protocol.isSampled(0, s[0]), "a leaver is no longer sampled");
        assertEq(sampleOf(0, POPULATION).length, K - 1, "the sample is not refilled");
        for (uint256 i = 1; i + 1 < s.length; ++i) submitAs(s[i], 0);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Submit), "one to go");
        submitAs(s[s.length - 1], 0);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Commit), "closed without the leaver");
    }

    /// The last sampled client still expected leaving closes the submit phase at once.
    function test_lastSampledLeaverClosesSubmit() public {
        start(POPULATION);
        address[] memory s = sampleOf(0, POPULATION);
        for (uint256 i = 0; i + 1 < s.length; ++i) submitAs(s[i], 0);
        vm.prank(s[s.length - 1]);
        protocol.deregister();
        assertEq(expected(0), K - 1, "one less expected");
        assertEq(phase(0), uint256(IFLProtocol.Phase.Commit), "closed early");
    }

    /// A sampled client that already submitted stays counted when it leaves.
    function test_sampledSubmitterLeavingChangesNothing() public {
        start(POPULATION);
        address[] memory s = sampleOf(0, POPULATION);
        submitAs(s[0], 0);
        vm.prank(s[0]);
        protocol.deregister();
        assertEq(expected(0), K, "submitter still counted");
        assertEq(protocol.roundInfo(0).numSubmissions, 1, "its update stays");
    }

    /// Outside a submit phase a sampled leaver changes nothing either.
    function test_sampledLeaverOutsideSubmit() public {
        start(POPULATION);
        address[] memory s = sampleOf(0, POPULATION);
        submitAs(s[0], 0);
        vm.warp(block.timestamp + SUBMIT);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Commit), "submit over");
        vm.prank(s[1]);
        protocol.deregister();
        assertEq(expected(0), K, "unchanged");
    }

    /// Without sampling (K = 0) the old rules hold: every active client is sampled, a joiner is
    /// expected (within maxUpdatesPerRound), a leaver is not, and registration is capped.
    function test_withoutSamplingEveryActiveClientTrains() public {
        deploy(defaultParams());
        Opened memory o = start(3);
        assertEq(o.population * 10 + o.expected, 33, "population 3, all expected");
        assertEq(sampleOf(0, 3).length, 3, "all sampled");
        join(3, 4);
        assertEq(expected(0), 4, "joiner expected");
        assertTrue(protocol.isSampled(0, client(3)), "joiner sampled");
        vm.prank(client(0));
        protocol.deregister();
        assertEq(expected(0), 3, "leaver not expected");
        assertFalse(protocol.isSampled(0, client(0)), "leaver not sampled");
        join(4, MAX_UPDATES + 1); // up to the slots: clients 1 .. 8 active
        assertEq(protocol.activeClientCount(), MAX_UPDATES, "full");
        address late = client(MAX_UPDATES + 1);
        vm.deal(late, CLIENT_BOND);
        vm.prank(late);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.ClientSlotsFull.selector, MAX_UPDATES));
        protocol.registerClient{value: CLIENT_BOND}();
    }

    /// With sampling, registration is not capped by maxUpdatesPerRound, before or during training.
    function test_registrationBeyondSlots() public {
        Opened memory o = start(3 * SLOTS);
        assertEq(o.population, 3 * SLOTS, "three times the slots registered");
        assertEq(o.expected, K, "K expected");
        join(3 * SLOTS, 3 * SLOTS + 5);
        assertEq(protocol.activeClientCount(), 3 * SLOTS + 5, "more during training");
        assertEq(expected(0), K, "expected unchanged");
    }

    // --- isSampled ----------------------------------------------------------------------

    /// True only for an active sampled client in the current, opened, not finalized round.
    function test_isSampledOnlyInTheOpenRound() public {
        registerClients(POPULATION);
        registerMiners(MINERS);
        assertEq(sampleOf(0, POPULATION).length, 0, "before training: none");
        protocol.startTraining();
        address[] memory s = sampleOf(0, POPULATION);
        assertEq(s.length, K, "round 0");
        assertFalse(protocol.isSampled(1, s[0]), "not the current round (not opened)");
        assertFalse(protocol.isSampled(0, address(0xdead)), "a non-client");
        assertFalse(protocol.isSampled(0, miner(0)), "a miner");
        runRound(0, s);
        assertEq(sampleOf(0, POPULATION).length, 0, "round 0, finalized and past: none");
        assertEq(sampleOf(1, POPULATION).length, K, "round 1");
        assertFalse(protocol.isSampled(7, s[0]), "a future round");
    }

    /// Once the last round is finalized it stays the current round, and nobody is sampled in it.
    function test_isSampledFalseInFinalizedLastRound() public {
        IFLProtocol.TaskParams memory p = sampled(K);
        p.rounds = 1;
        deploy(p);
        start(POPULATION);
        address[] memory s = sampleOf(0, POPULATION);
        runRoundToEnd(s);
        assertTrue(protocol.taskFinished(), "finished");
        assertEq(protocol.currentRound(), 0, "still round 0");
        for (uint256 i = 0; i < s.length; ++i) assertFalse(protocol.isSampled(0, s[i]), "finalized");
    }

    function runRoundToEnd(address[] memory who) internal {
        for (uint256 i = 0; i < who.length; ++i) submitAs(who[i], 0);
        voteAll(0, uniform(who.length, 9000));
        protocol.finalizeRound(0);
    }

    // --- the population's cap and the parameters ----------------------------------------

    /// Indices are 16 bits: the 65536th registration is refused, a client coming back as well (every
    /// registration takes an index).
    /// `_population` sits at SLOT_POPULATION (4: `forge inspect FLProtocol storageLayout` lists
    /// FLRegistry's `_activeClients` at slot 3 and `_population` right after it; the first checks
    /// below confirm the slot by reading it as clients register).
    function test_tooManyClients() public {
        registerClients(2);
        assertEq(uint256(vm.load(address(protocol), bytes32(SLOT_POPULATION))), 2, "slot of _population");
        vm.store(address(protocol), bytes32(SLOT_POPULATION), bytes32(uint256(65533)));
        address last = client(2);
        vm.deal(last, CLIENT_BOND);
        vm.expectEmit();
        emit IFLProtocol.ClientRegistered(last, 65533, CLIENT_BOND, protocol.INITIAL_REPUTATION());
        vm.prank(last);
        protocol.registerClient{value: CLIENT_BOND}();
        join(3, 4); // client(3): index 65534, the last
        address refused = client(4);
        vm.deal(refused, CLIENT_BOND);
        vm.prank(refused);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.TooManyClients.selector, 65535));
        protocol.registerClient{value: CLIENT_BOND}();
        vm.startPrank(client(1));
        protocol.deregister();
        protocol.withdraw();
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.TooManyClients.selector, 65535));
        protocol.registerClient{value: CLIENT_BOND}();
        vm.stopPrank();
        // the full population draws K of its indices; client(1)'s is drawn in vain, if drawn
        registerMiners(MINERS);
        vm.recordLogs();
        protocol.startTraining();
        Opened memory o = opened();
        assertEq(o.population, 65535, "population 65535");
        assertEq(o.expected, 3, "min(K, active clients)");
        for (uint256 i = 0; i < 4; ++i) {
            uint256 index = i < 2 ? i : 65531 + i;
            bool drawn = i != 1 && ClientSample.position(o.seed, 65535, index) < K;
            assertTrue(protocol.isSampled(0, client(i)) == drawn, "drawn by index");
        }
    }

    /// A client who left and comes back during a submit phase gets a fresh index: its old one may
    /// be among the round's drawn, but it is a joiner, neither drawn nor expected, and leaving
    /// again changes nothing, so it cannot close the phase on the clients who were drawn.
    function test_comingBackMidRoundIsJoining() public {
        deploy(sampled(3));
        Opened memory o = start(4);
        address[] memory s0 = sampleOf(0, 4);
        address back = s0[0];
        vm.prank(back);
        protocol.deregister(); // drawn in round 0, leaves without submitting
        address[] memory rest = new address[](s0.length - 1);
        for (uint256 i = 1; i < s0.length; ++i) rest[i - 1] = s0[i];
        o = runRound(0, rest);
        uint256 waiting = expected(1);
        vm.startPrank(back);
        protocol.withdraw();
        vm.expectEmit();
        emit IFLProtocol.ClientRegistered(back, 4, CLIENT_BOND, protocol.INITIAL_REPUTATION());
        protocol.registerClient{value: CLIENT_BOND}();
        assertFalse(protocol.isSampled(1, back), "a joiner in round 1");
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotSampled.selector, 1, back));
        protocol.submitUpdate(1, cid(7), 1);
        protocol.deregister();
        vm.stopPrank();
        assertEq(expected(1), waiting, "its leaving moves nothing");
        assertEq(phase(1), uint256(IFLProtocol.Phase.Submit), "still waiting for the drawn");
    }

    function testFuzz_clientsPerRoundAtMostSlots(uint16 k, uint16 slots) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.maxUpdatesPerRound = uint16(bound(slots, 1, protocol.MAX_UPDATES()));
        p.clientsPerRound = k;
        if (k > p.maxUpdatesPerRound) {
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InvalidParameter.selector, "clientsPerRound"));
            new FLProtocol(p, NAME, SYMBOL);
            return;
        }
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().clientsPerRound, k, "kept");
    }

    function test_clientsPerRoundBounds() public {
        IFLProtocol.TaskParams memory p = sampled(SLOTS + 1);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InvalidParameter.selector, "clientsPerRound"));
        new FLProtocol(p, NAME, SYMBOL);
        p.clientsPerRound = SLOTS;
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().clientsPerRound, SLOTS, "K = slots allowed");
    }

    /// A client's bond is kept in 80 bits: a larger `clientBond` is refused at deployment.
    function testFuzz_clientBondFits80Bits(uint96 bond) public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.clientBond = bond;
        if (bond > type(uint80).max) {
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InvalidParameter.selector, "clientBond"));
            new FLProtocol(p, NAME, SYMBOL);
            return;
        }
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().clientBond, bond, "kept");
    }

    function test_clientBondBounds() public {
        IFLProtocol.TaskParams memory p = defaultParams();
        p.clientBond = uint96(type(uint80).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.InvalidParameter.selector, "clientBond"));
        new FLProtocol(p, NAME, SYMBOL);
        p.clientBond = type(uint80).max;
        assertEq(new FLProtocol(p, NAME, SYMBOL).taskParams().clientBond, type(uint80).max, "largest allowed");
    }

    /// The Fixture's storage slots, read back against the views (they move with the layout).
    function test_storageSlots() public {
        Opened memory o = start(3);
        assertEq(o.population, 3, "three");
        assertEq(uint256(vm.load(address(protocol), bytes32(SLOT_ACTIVE_CLIENTS))), 3, "_activeClients");
        assertEq(uint256(vm.load(address(protocol), bytes32(SLOT_POPULATION))), 3, "_population");
        uint256 word = clientWord(client(2));
        (, uint256 bond, uint256 rep, ) = protocol.clientInfo(client(2));
        assertEq(uint80(word), bond, "client bond: bits 0..79");
        assertEq(uint16(word >> 80), 2, "client index: bits 80..95");
        assertEq(uint24(word >> 96), rep, "client reputation: bits 96..119");
        assertEq(uint8(word >> 152), 1, "client status: bits 152..159");
        word = uint256(vm.load(address(protocol), keccak256(abi.encode(miner(1), SLOT_MINERS))));
        (, uint256 mbond, uint256 mrep) = protocol.minerInfo(miner(1));
        assertEq(uint96(word), mbond, "miner bond: bits 0..95");
        assertEq(uint32(word >> 96), mrep, "miner reputation: bits 96..127");
        address who = firstWith(0, 3, true);
        submitAs(who, 0);
        word = clientWord(who);
        assertEq(uint32(word >> 120), 1, "client round tag: bits 120..151");
        assertEq(uint16(word >> 160), 1, "client pending update (index + 1): bits 160..175");
        assertEq(uint80(word >> 176), 0, "client owed: bits 176..255");
    }
}
