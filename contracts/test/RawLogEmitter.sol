// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * Test only: emits any log. The indexer tests put this code at a watched
 * contract's address for a moment (hardhat_setCode) so that the contract
 * emits a log its ABI cannot decode, then put the contract's code back.
 */
contract RawLogEmitter {
    function emitRaw(bytes32 topic0, bytes calldata data) external {
        bytes memory d = data;
        assembly {
            log1(add(d, 32), mload(d), topic0)
        }
    }
}
