// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLProtocol} from "../../FLProtocol.sol";
import {FLToken} from "../../FLToken.sol";
import {IFLProtocol} from "../../IFLProtocol.sol";
import {FLProtocolSmallPages} from "./SmallPages.sol";
import {Test} from "./Test.sol";
import {Votes} from "./Votes.sol";
import {vm} from "./Vm.sol";

/// @notice A deployed protocol (and the token it created) with small parameters, accounts and round-driving helpers.
abstract contract Fixture is Test {
    uint96 internal constant CLIENT_BOND = 1 ether;
    uint96 internal constant MINER_BOND = 2 ether;
    uint256 internal constant CLIENT_REWARD = 1000e18;
    uint256 internal constant MINER_REWARD = 300e18;
    uint32 internal constant SUBMIT = 100;
    uint32 internal constant COMMIT = 50;
    uint32 internal constant REVEAL = 50;
    uint32 internal constant ROUNDS = 20;
    uint16 internal constant MAX_UPDATES = 8;
    /// Storage slots of FLProtocol (`forge inspect FLProtocol storageLayout`), read back against
    /// the views by FLSamplingTest.test_storageSlots.
    uint256 internal constant SLOT_ACTIVE_CLIENTS = 3;
    uint256 internal constant SLOT_POPULATION = 4;
    uint256 internal constant SLOT_CLIENTS = 7;
    uint256 internal constant SLOT_MINERS = 8;

    address internal admin = address(this);

    /// `account`'s client slot: `bond | index << 80 | reputation << 96 | roundPlusOne << 120 |
    /// status << 152 | updatePlusOne << 160 | owed << 176`.
    function clientWord(address account) internal view returns (uint256) {
        return uint256(vm.load(address(protocol), keccak256(abi.encode(account, SLOT_CLIENTS))));
    }
    string internal constant NAME = "FL Reward";
    string internal constant SYMBOL = "FLR";
    FLToken internal token;
    FLProtocol internal protocol;

    function setUp() public virtual {
        vm.warp(1_000_000);
        deploy(defaultParams());
    }

    function defaultParams() internal pure returns (IFLProtocol.TaskParams memory p) {
        p.initialModelCid = cid(1);
        p.specCid = cid(2);
        p.rounds = ROUNDS;
        p.committeeSize = 3;
        p.quorum = 2;
        p.acceptanceThreshold = 5000;
        p.submitDuration = SUBMIT;
        p.commitDuration = COMMIT;
        p.revealDuration = REVEAL;
        p.clientRewardPerRound = CLIENT_REWARD;
        p.minerRewardPerRound = MINER_REWARD;
        p.sampleCap = 1000;
        p.slashBps = 5000;
        p.maxUpdatesPerRound = MAX_UPDATES;
        p.clientBond = CLIENT_BOND;
        p.minerBond = MINER_BOND;
    }

    /// @dev Deploys a protocol with `p`; it creates its own token (and is its only minter).
    function deploy(IFLProtocol.TaskParams memory p) internal {
        protocol = new FLProtocol(p, NAME, SYMBOL);
        token = FLToken(protocol.token());
        prepare();
    }

    /// @dev Prepares every update slot, a page at a time, as a deployment does.
    function prepare() internal {
        (uint256 prepared, uint256 total) = protocol.slotsPrepared();
        for (; prepared < total; (prepared, ) = protocol.slotsPrepared()) protocol.prepareSlots();
    }

    /// @dev Deploys a protocol with `p` that finalizes 3 steps per `finalizeRound` call.
    function deploySmallPages(IFLProtocol.TaskParams memory p) internal {
        protocol = new FLProtocolSmallPages(p, NAME, SYMBOL);
        token = FLToken(protocol.token());
        prepare();
    }

    /// @dev A valid CIDv1 (raw, sha2-256) with a digest derived from `seed`.
    function cid(uint256 seed) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes4(0x01551220), keccak256(abi.encode(seed)));
    }

    function client(uint256 i) internal pure returns (address) {
        return address(uint160(0xC0000 + i));
    }

    function miner(uint256 i) internal pure returns (address) {
        return address(uint160(0xA0000 + i));
    }

    function registerClients(uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            vm.deal(client(i), CLIENT_BOND);
            vm.prank(client(i));
            protocol.registerClient{value: CLIENT_BOND}();
        }
    }

    function registerMiners(uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            vm.deal(miner(i), MINER_BOND);
            vm.prank(miner(i));
            protocol.registerMiner{value: MINER_BOND}();
        }
    }

    function submitAll(uint256 round, uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            vm.prank(client(i));
            protocol.submitUpdate(round, cid(100 + i), 10 * (i + 1));
        }
    }

    function uniform(uint256 n, uint16 score) internal pure returns (uint16[] memory s) {
        s = new uint16[](n);
        for (uint256 i = 0; i < n; ++i) s[i] = score;
    }

    function commitAs(address who, uint256 round, uint16[] memory scores, bytes32 salt) internal {
        bytes32 c = Votes.commitment(address(protocol), round, who, scores, salt);
        vm.prank(who);
        protocol.commitVotes(round, c);
    }

    function revealAs(address who, uint256 round, uint16[] memory scores, bytes32 salt) internal {
        vm.prank(who);
        protocol.revealVotes(round, scores, salt);
    }

    /// @dev The whole committee of `round` commits and reveals `scores`; phases close early.
    function voteAll(uint256 round, uint16[] memory scores) internal {
        address[] memory members = protocol.committee();
        for (uint256 s = 0; s < members.length; ++s) commitAs(members[s], round, scores, bytes32(s + 1));
        for (uint256 s = 0; s < members.length; ++s) revealAs(members[s], round, scores, bytes32(s + 1));
    }

    /// @dev Starts training with `clients` clients and `miners_` miners; round 0 is in Submit.
    function started(uint256 clients, uint256 miners_) internal {
        registerClients(clients);
        registerMiners(miners_);
        protocol.startTraining();
    }

    /// @dev Runs `round` to finalization with every update scored `score` by everyone.
    function fullRound(uint256 round, uint256 clients, uint16 score) internal {
        submitAll(round, clients);
        voteAll(round, uniform(clients, score));
        protocol.finalizeRound(round);
    }

    function phase(uint256 round) internal view returns (uint256) {
        return uint256(protocol.currentPhase(round));
    }
}
