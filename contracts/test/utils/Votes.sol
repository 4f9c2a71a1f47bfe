// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice The vote commitment `revealVotes` checks a reveal against (FLCommittee's
/// `_calldataCommitment`): keccak256 of the ABI encoding of chain id, protocol, round, miner,
/// scores (uint16[]) and salt. The contract no longer exposes it as a view.
library Votes {
    function commitment(
        address protocol,
        uint256 round,
        address miner,
        uint16[] memory scores,
        bytes32 salt
    ) internal view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, protocol, round, miner, scores, salt));
    }
}
