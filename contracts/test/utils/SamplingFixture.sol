// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFLProtocol} from "../../IFLProtocol.sol";
import {Fixture} from "./Fixture.sol";
import {Vm, vm} from "./Vm.sol";

/// @notice A task that samples clients (`clientsPerRound` K = 10 of 40, 16 slots), and helpers to
/// read the round a call opened and who `isSampled` says is drawn.
abstract contract SamplingFixture is Fixture {
    uint16 internal constant K = 10;
    uint16 internal constant SLOTS = 16;
    uint256 internal constant POPULATION = 40;
    uint256 internal constant MINERS = 3;

    /// What the recorded calls' `RoundOpened` and `CommitteeDrawn` said.
    struct Opened {
        uint256 round;
        uint256 expected;
        uint256 population;
        bytes32 seed;
    }

    function setUp() public override {
        super.setUp();
        deploy(sampled(K));
    }

    function sampled(uint16 k) internal pure returns (IFLProtocol.TaskParams memory p) {
        p = defaultParams();
        p.maxUpdatesPerRound = SLOTS;
        p.clientsPerRound = k;
    }

    // --- helpers ----------------------------------------------------------------

    /// @dev The round opened by the calls since `vm.recordLogs()`, from its two events.
    function opened() internal returns (Opened memory o) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 found;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(protocol)) continue;
            if (logs[i].topics[0] == IFLProtocol.RoundOpened.selector) {
                o.round = uint256(logs[i].topics[1]);
                (, o.expected, o.population) = abi.decode(logs[i].data, (uint256, uint256, uint256));
                ++found;
            } else if (logs[i].topics[0] == IFLProtocol.CommitteeDrawn.selector) {
                (, o.seed) = abi.decode(logs[i].data, (address[], bytes32));
                ++found;
            }
        }
        assertEq(found, 2, "one RoundOpened and one CommitteeDrawn");
    }

    /// @dev Starts training with `clients` clients and MINERS miners; round 0 as its events say.
    function start(uint256 clients) internal returns (Opened memory) {
        registerClients(clients);
        registerMiners(MINERS);
        vm.recordLogs();
        protocol.startTraining();
        return opened();
    }

    /// @dev The clients among client(0 .. n-1) that `isSampled` says train in `round`.
    function sampleOf(uint256 round, uint256 n) internal view returns (address[] memory s) {
        address[] memory all = new address[](n);
        uint256 count;
        for (uint256 i = 0; i < n; ++i) {
            if (protocol.isSampled(round, client(i))) all[count++] = client(i);
        }
        s = new address[](count);
        for (uint256 j = 0; j < count; ++j) s[j] = all[j];
    }

    /// @dev The first of client(0 .. n-1) whose `isSampled(round)` is `want`.
    function firstWith(uint256 round, uint256 n, bool want) internal view returns (address) {
        for (uint256 i = 0; i < n; ++i) {
            if (protocol.isSampled(round, client(i)) == want) return client(i);
        }
        revert("none");
    }

    /// @dev client(from .. to-1) register, each with the bond.
    function join(uint256 from, uint256 to) internal {
        for (uint256 i = from; i < to; ++i) {
            vm.deal(client(i), CLIENT_BOND);
            vm.prank(client(i));
            protocol.registerClient{value: CLIENT_BOND}();
        }
    }

    function submitAs(address who, uint256 round) internal {
        vm.prank(who);
        protocol.submitUpdate(round, cid(uint160(who)), 1);
    }

    /// @dev `who` all submit to `round`, which the committee then scores and finalizes; returns
    /// the next round, as its events say.
    function runRound(uint256 round, address[] memory who) internal returns (Opened memory) {
        for (uint256 i = 0; i < who.length; ++i) submitAs(who[i], round);
        voteAll(round, uniform(who.length, 9000));
        vm.recordLogs();
        protocol.finalizeRound(round);
        return opened();
    }

    function expected(uint256 round) internal view returns (uint256) {
        return protocol.roundInfo(round).expectedSubmissions;
    }

    function min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

}
