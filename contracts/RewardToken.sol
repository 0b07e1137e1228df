// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * The project's own (not in the seed): the token miners' earnings are paid
 * out in. One unit is one micro of the router's ledger (6 decimals, as the
 * ledger's amounts). Only its minter, the RewardDistributor that deploys it,
 * creates units, and only when a miner claims: the supply is exactly what
 * was claimed.
 */
contract RewardToken is ERC20 {
    address public immutable minter;

    constructor() ERC20("Cortensor Router Reward", "CRR") {
        minter = msg.sender;
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        require(msg.sender == minter, "not the minter");
        _mint(to, amount);
    }
}
