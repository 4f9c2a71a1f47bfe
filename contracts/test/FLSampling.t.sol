// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../IFLProtocol.sol";
import {ClientSample} from "../libraries/ClientSample.sol";
import {SamplingFixture} from "./utils/SamplingFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Client sampling (`clientsPerRound` K > 0): each round draws min(K, population) of the
/// clients registered when it opened (`ClientSample`, keyed by the round's committee seed); only
/// they submit, the submit phase waits for them alone, and joiners and leavers move the round's
/// expected submissions only as far as the sample is concerned.
contract FLSamplingTest is SamplingFixture {
    // --- the draw -----------------------------------------------------------------

    /// Any population and K: exactly min(K, population) clients are sampled, the round expects
    /// that many, and they are those `ClientSample` places below K from the event's seed.
    /// forge-config: default.fuzz.runs = 200
    function testFuzz_sampleSizeIsMinOfKAndPopulation(uint8 population, uint16 k) public {
        uint256 n = bound(population, 1, POPULATION);
        uint16 kk = uint16(bound(k, 1, SLOTS));
        deploy(sampled(kk));
        Opened memory o = start(n);
        assertEq(o.population, n, "population: clients registered");
        assertEq(o.expected, min(kk, n), "expected: min(K, population)");
        assertEq(expected(0), o.expected, "roundInfo agrees");
        uint256 count;
        for (uint256 i = 0; i < n; ++i) {
            bool drawn = ClientSample.position(o.seed, n, i) < kk;
            assertTrue(protocol.isSampled(0, client(i)) == drawn, "isSampled follows ClientSample");
            if (drawn) ++count;
        }
        assertEq(count, min(kk, n), "min(K, population) sampled");
    }

    function test_fortyClientsTenSampled() public {
        Opened memory o = start(POPULATION);
        assertEq(o.population * 100 + o.expected, 4010, "population 40, 10 expected");
        assertEq(sampleOf(0, POPULATION).length, K, "ten sampled");
        assertFalse(protocol.isSampled(0, client(POPULATION)), "client(40) never registered");
    }

    /// The sample is drawn afresh each round, from the seed the previous round's reveals moved.
    function test_sampleChangesBetweenRounds() public {
        Opened memory o0 = start(POPULATION);
        address[] memory s0 = sampleOf(0, POPULATION);
        Opened memory o1 = runRound(0, s0);
        address[] memory s1 = sampleOf(1, POPULATION);
        Opened memory o2 = runRound(1, s1);
        address[] memory s2 = sampleOf(2, POPULATION);
        assertEq(o1.round * 10 + o2.round, 12, "rounds 1 and 2 opened");
        assertEq(s0.length * 10000 + s1.length * 100 + s2.length, 101010, "ten a round");
        assertTrue(o0.seed != o1.seed && o1.seed != o2.seed, "seed moves");
        assertTrue(keccak256(abi.encode(s0)) != keccak256(abi.encode(s1)), "round 1 draws another sample");
        assertTrue(keccak256(abi.encode(s1)) != keccak256(abi.encode(s2)), "round 2 draws another sample");
        uint256 trained = protocol.roundInfo(0).numSubmissions + protocol.roundInfo(1).numSubmissions;
        assertEq(trained, 2 * K, "all sampled trained");
    }

    /// `position(seed, n, .)` is a permutation of [0, n): every index lands below n, on a place of its own.
    /// forge-config: default.fuzz.runs = 300
    function testFuzz_positionIsPermutation(uint16 size, bytes32 seed) public pure {
        uint256 n = bound(size, 1, 300);
        bool[] memory taken = new bool[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 p = ClientSample.position(seed, n, i);
            assertLe(p, n - 1, "below n");
            assertFalse(taken[p], "one index per place");
            taken[p] = true;
        }
    }

    /// Known answers of `flchain/chain/sampling.py` (the auditor's mirror), seeds keccak256("a") ...
    function test_positionMatchesPythonMirror() public pure {
        assertEq(ClientSample.position(keccak256("a"), 1, 0), 0, "n = 1");
        assertEq(ClientSample.position(keccak256("a"), 2, 1), 1, "n = 2");
        uint8[5] memory b5 = [3, 0, 1, 4, 2];
        for (uint256 i = 0; i < 5; ++i) assertEq(ClientSample.position(keccak256("b"), 5, i), b5[i], "n = 5");
        uint8[6] memory c40 = [25, 20, 21, 24, 30, 31];
        for (uint256 i = 0; i < 6; ++i) assertEq(ClientSample.position(keccak256("c"), 40, i), c40[i], "n = 40");
        assertEq(ClientSample.position(keccak256("c"), 40, 39), 32, "n = 40, last");
        uint16[6] memory d300 = [11, 159, 297, 42, 53, 5];
        for (uint256 i = 0; i < 6; ++i) assertEq(ClientSample.position(keccak256("d"), 300, i), d300[i], "n = 300");
        assertEq(ClientSample.position(keccak256("d"), 300, 299), 285, "n = 300, last");
        uint16[6] memory e = [47826, 36404, 6367, 31050, 1080, 43116];
        for (uint256 i = 0; i < 6; ++i) assertEq(ClientSample.position(keccak256("e"), 65535, i), e[i], "n = 65535");
        assertEq(ClientSample.position(keccak256("e"), 65535, 65534), 148, "n = 65535, last");
        // sampled_indices(keccak("c"), 40, 10)
        uint8[10] memory drawn = [10, 14, 15, 18, 19, 25, 27, 29, 30, 34];
        uint256 j;
        for (uint256 i = 0; i < 40; ++i) {
            if (ClientSample.position(keccak256("c"), 40, i) >= 10) continue;
            assertEq(i, drawn[j++], "sampled index");
        }
        assertEq(j, 10, "ten drawn");
    }

    // --- submissions ----------------------------------------------------------------

    /// Any registered client: a sampled one submits, any other is refused with `NotSampled`.
    function testFuzz_onlySampledSubmit(uint8 which) public {
        start(POPULATION);
        address who = client(bound(which, 0, POPULATION - 1));
        bool drawn = protocol.isSampled(0, who);
        vm.prank(who);
        if (!drawn) {
            vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotSampled.selector, 0, who));
            protocol.submitUpdate(0, cid(1), 1);
            assertEq(protocol.roundInfo(0).numSubmissions, 0, "refused");
            return;
        }
        protocol.submitUpdate(0, cid(1), 1);
        assertEq(protocol.roundInfo(0).numSubmissions, 1, "taken");
    }

    function test_unsampledSubmitReverts() public {
        start(POPULATION);
        address who = firstWith(0, POPULATION, false);
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotSampled.selector, 0, who));
        protocol.submitUpdate(0, cid(1), 1);
    }

    /// The submit phase closes as soon as every sampled client submitted, long before its end.
    function test_submitClosesOnceSampleSubmitted() public {
        start(POPULATION);
        address[] memory s = sampleOf(0, POPULATION);
        for (uint256 i = 0; i + 1 < s.length; ++i) submitAs(s[i], 0);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Submit), "one sampled client to go");
        submitAs(s[s.length - 1], 0);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Commit), "closed early");
        assertEq(protocol.roundInfo(0).submitEnd, block.timestamp, "at once");
        address other = firstWith(0, POPULATION, false);
        vm.prank(other);
        IFLProtocol.Phase commit = IFLProtocol.Phase.Commit;
        vm.expectRevert(abi.encodeWithSelector(IFLProtocol.NotInPhase.selector, 0, IFLProtocol.Phase.Submit, commit));
        protocol.submitUpdate(0, cid(1), 1);
    }

    /// A population below K: everyone is sampled, and the round waits for everyone.
    function test_populationBelowK() public {
        Opened memory o = start(4);
        assertEq(o.expected, 4, "all four expected");
        assertEq(sampleOf(0, 4).length, 4, "all four sampled");
        submitAll(0, 3);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Submit), "one to go");
        submitAs(client(3), 0);
        assertEq(phase(0), uint256(IFLProtocol.Phase.Commit), "closed early");
    }

}
