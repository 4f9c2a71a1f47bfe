// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

interface IMemberTarget {
    function registerClient() external payable;
    function deregister() external;
    function withdraw() external;
}

/// A contract account acting as a client, to test pull payments it refuses or re-enters.
contract Member {
    IMemberTarget public immutable target;
    uint8 public mode; // 0 accept ether, 1 refuse it, 2 re-enter withdraw()

    constructor(IMemberTarget target_) {
        target = target_;
    }

    function setMode(uint8 mode_) external {
        mode = mode_;
    }

    function join() external payable {
        target.registerClient{value: msg.value}();
    }

    function quit() external {
        target.deregister();
    }

    function pull() external {
        target.withdraw();
    }

    receive() external payable {
        if (mode == 1) revert("refused");
        if (mode == 2) target.withdraw();
    }
}
