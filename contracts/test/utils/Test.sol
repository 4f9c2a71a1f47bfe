// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {vm} from "./Vm.sol";

/// @notice Minimal test base: forge runs `setUp` then every `test*` function, fuzzing their
/// arguments; `invariant*` functions are checked after random calls to `targetContracts()`.
abstract contract Test {
    bool public IS_TEST = true;

    address[] private _targetContracts;
    bytes4[] private _targetSelectorList;
    address private _targetSelectorContract;

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        if (_targetSelectorContract == address(0)) return selectors;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector(_targetSelectorContract, _targetSelectorList);
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetSelectors(address target, bytes4[] memory selectors) internal {
        _targetSelectorContract = target;
        for (uint256 i = 0; i < selectors.length; ++i) _targetSelectorList.push(selectors[i]);
    }

    /// @dev `x` mapped into [lo, hi] (fuzz inputs stay spread over the range).
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(lo <= hi, "bound: lo > hi");
        if (x >= lo && x <= hi) return x;
        uint256 span = hi - lo;
        return span == type(uint256).max ? x : lo + (x % (span + 1));
    }

    function assertTrue(bool c, string memory m) internal pure {
        vm.assertTrue(c, m);
    }

    function assertFalse(bool c, string memory m) internal pure {
        vm.assertFalse(c, m);
    }

    function assertEq(uint256 a, uint256 b, string memory m) internal pure {
        vm.assertEq(a, b, m);
    }

    function assertEq(address a, address b, string memory m) internal pure {
        vm.assertEq(a, b, m);
    }

    function assertEq(bytes32 a, bytes32 b, string memory m) internal pure {
        vm.assertEq(a, b, m);
    }

    function assertEq(bytes memory a, bytes memory b, string memory m) internal pure {
        vm.assertEq(a, b, m);
    }

    function assertLe(uint256 a, uint256 b, string memory m) internal pure {
        vm.assertLe(a, b, m);
    }

    function assertGe(uint256 a, uint256 b, string memory m) internal pure {
        vm.assertGe(a, b, m);
    }
}
