// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title FLToken
 * @notice The reward token of an FLchain task. Created by the protocol contract,
 * which is bound as its only minter for good: there is no admin, no role to
 * grant or revoke, and no way to change the minter.
 */
contract FLToken is ERC20 {
    /// @notice The only account allowed to mint: the contract that created this token.
    address public immutable minter;

    /// @notice `account` is not the minter.
    error NotMinter(address account);

    /// @param name_ ERC-20 name.
    /// @param symbol_ ERC-20 symbol.
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {
        minter = msg.sender;
    }

    /// @notice Mints `amount` tokens to `to`. Minter only.
    /// @param to Recipient.
    /// @param amount Amount in the token's smallest unit.
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }
}
