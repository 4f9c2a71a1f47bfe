// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title CidBytes
 * @notice Shape check of binary CIDs with a sha2-256 multihash:
 * CIDv0 (`0x12 0x20` + 32-byte digest, 34 bytes) or CIDv1 raw / dag-pb
 * (`0x01`, codec `0x55` or `0x70`, `0x12 0x20` + digest, 36 bytes).
 */
library CidBytes {
    /// @notice True if `cid` is a supported binary CID with a non-zero digest.
    function isValid(bytes calldata cid) internal pure returns (bool) {
        uint256 offset;
        if (cid.length == 34) {
            offset = 0;
        } else if (cid.length == 36) {
            if (cid[0] != 0x01 || (cid[1] != 0x55 && cid[1] != 0x70)) return false;
            offset = 2;
        } else {
            return false;
        }
        if (cid[offset] != 0x12 || cid[offset + 1] != 0x20) return false;
        return bytes32(cid[offset + 2:offset + 34]) != bytes32(0);
    }

    /// @notice True if `cid` has the length and prefix of a supported binary CID
    /// (the digest is not checked). For CIDs in memory, such as the task parameters.
    function hasCidPrefix(bytes memory cid) internal pure returns (bool) {
        if (cid.length == 34) return cid[0] == 0x12 && cid[1] == 0x20;
        if (cid.length != 36) return false;
        return cid[0] == 0x01 && (cid[1] == 0x55 || cid[1] == 0x70) && cid[2] == 0x12 && cid[3] == 0x20;
    }
}
