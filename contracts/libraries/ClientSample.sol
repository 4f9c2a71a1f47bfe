// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title ClientSample
 * @notice Which clients train in a round: a keyed permutation of the client indices.
 *
 * Client `i` of a population of `n` (indices `0 .. n - 1`) sits at
 * `position(seed, n, i)`, a permutation of `0 .. n - 1`; the `k` clients at
 * positions below `k` are the round's sample, so exactly `min(k, n)` indices
 * are drawn, and whether one of them is costs a few hashes whatever `n` is.
 *
 * The permutation is a balanced Feistel network of `ROUNDS` rounds over
 * `2h`-bit words (`h >= 1` the least with `4^h >= n`), whose round function is
 * `keccak256(abi.encode(seed, round, half))` cut to `h` bits, walked in cycles
 * until the result falls below `n` (expected at most four walks). Mirrored by
 * `flchain/chain/sampling.py`.
 */
library ClientSample {
    uint256 internal constant ROUNDS = 4;

    /// @dev The place of index `i` (< `n`) in the round's permutation of `0 .. n - 1`.
    function position(bytes32 seed, uint256 n, uint256 i) internal pure returns (uint256 x) {
        uint256 h = 1;
        while (1 << (2 * h) < n) ++h;
        uint256 mask = (1 << h) - 1;
        x = i;
        do {
            uint256 l = x >> h;
            uint256 r = x & mask;
            for (uint256 j = 0; j < ROUNDS; ++j) {
                (l, r) = (r, l ^ (uint256(keccak256(abi.encode(seed, j, r))) & mask));
            }
            x = (l << h) | r;
        } while (x >= n);
    }
}
