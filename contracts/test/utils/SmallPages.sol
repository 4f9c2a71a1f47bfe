// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FLProtocol} from "../../FLProtocol.sol";

/// @notice FLProtocol finalizing `PAGE` steps per call, so small rounds take many pages, and pages
/// start and end inside a 16-update word.
contract FLProtocolSmallPages is FLProtocol {
    uint256 internal constant PAGE = 3;

    constructor(TaskParams memory p, string memory name_, string memory symbol_) FLProtocol(p, name_, symbol_) {}

    function _finalizePage() internal pure override returns (uint256) {
        return PAGE;
    }
}
