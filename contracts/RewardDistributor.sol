// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {RewardToken} from "./RewardToken.sol";

/**
 * The project's own (not in the seed): miners' earnings settle here. Per
 * epoch the router (`poster`, fixed at deployment) posts the Merkle root of
 * every miner address's CUMULATIVE earnings, an OpenZeppelin
 * StandardMerkleTree over (address, uint256) leaves. A miner claims with its
 * own key: the leaf is (msg.sender, cumulative), so another miner's proof
 * does not verify for it, and it is paid `cumulative - claimed[msg.sender]`,
 * minted by this contract (the token's minter), so a second claim, or one
 * against an older root, pays nothing more and the token's supply is exactly
 * `totalClaimed`. Epochs strictly increase: a post retried after its
 * transaction landed is refused, never counted twice.
 */
contract RewardDistributor {
    RewardToken public immutable token;
    address public immutable poster;

    /** The last epoch posted (0: none yet). */
    uint64 public epoch;
    /** Epoch => its root. */
    mapping(uint64 => bytes32) public roots;
    /** Epoch => the sum of its cumulative amounts (what the router says it owes in all, up to then). */
    mapping(uint64 => uint256) public totals;
    /** Epoch => the block it was posted in. */
    mapping(uint64 => uint64) public postedAt;
    /** Address => what it claimed in all. */
    mapping(address => uint256) public claimed;
    uint256 public totalClaimed;

    event RootPosted(uint64 indexed epoch, bytes32 indexed root, uint256 total);
    event Claimed(address indexed account, uint64 indexed epoch, uint256 amount, uint256 cumulative);

    constructor(address poster_) {
        require(poster_ != address(0), "no poster");
        poster = poster_;
        token = new RewardToken();
    }

    /** Posts `root` as epoch `epoch_`, which must be past the last one. */
    function postRoot(uint64 epoch_, bytes32 root, uint256 total) external {
        require(msg.sender == poster, "not the poster");
        require(epoch_ > epoch, "epoch not after the last");
        require(root != bytes32(0), "empty root");
        epoch = epoch_;
        roots[epoch_] = root;
        totals[epoch_] = total;
        postedAt[epoch_] = uint64(block.number);
        emit RootPosted(epoch_, root, total);
    }

    /** Claims what the sender earned up to `epoch_` and has not claimed yet. */
    function claim(uint64 epoch_, uint256 cumulative, bytes32[] calldata proof) external returns (uint256 amount) {
        bytes32 root = roots[epoch_];
        require(root != bytes32(0), "no such epoch");
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(msg.sender, cumulative))));
        require(MerkleProof.verifyCalldata(proof, root, leaf), "invalid proof");
        uint256 already = claimed[msg.sender];
        require(cumulative > already, "nothing to claim");
        amount = cumulative - already;
        claimed[msg.sender] = cumulative;
        totalClaimed += amount;
        token.mint(msg.sender, amount);
        emit Claimed(msg.sender, epoch_, amount, cumulative);
    }
}
