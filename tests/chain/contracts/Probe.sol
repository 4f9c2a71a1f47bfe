// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A small token exercising what the chain layer must handle:
/// custom errors with arguments, string reverts, panics, indexed and plain event fields.
contract Probe is ERC20 {
    error TooLarge(uint256 value, uint256 limit);
    error NotOwner(address caller);

    event Stored(address indexed who, uint256 indexed key, uint256 value, string note);

    address public immutable owner;
    mapping(uint256 => uint256) public values;

    constructor() ERC20("Probe", "PRB") {
        owner = msg.sender;
        _mint(msg.sender, 1e30);
    }

    function store(uint256 key, uint256 value, string calldata note) external {
        if (value > 1000) revert TooLarge(value, 1000);
        values[key] = value;
        emit Stored(msg.sender, key, value, note);
    }

    /// @notice `store` through an external call to this contract: a call that forwards gas.
    function storeVia(uint256 key, uint256 value, string calldata note) external {
        this.store(key, value, note);
    }

    function ownerOnly() external view returns (uint256) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        return 42;
    }

    function fail(string calldata reason) external pure {
        revert(reason);
    }

    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }
}
