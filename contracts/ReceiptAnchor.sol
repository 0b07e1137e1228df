// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * The project's own (not in the seed): a router anchors the receipts it
 * signed by posting, batch after batch, the Merkle root of their hashes
 * (an OpenZeppelin StandardMerkleTree over each receipt body's SHA-256).
 * Anyone then checks a receipt's inclusion against a root and reads here who
 * posted that root, when, and as which batch of whose. A root is posted
 * once; a router's batches are numbered from 1 without gaps, so a flush
 * retried after its transaction already landed is refused, never counted
 * twice.
 */
contract ReceiptAnchor {
    struct Anchor {
        address sender;
        uint64 batch;
        uint64 blockNumber;
        uint64 count;
    }

    /** Root => who anchored it, as which of their batches, in which block, over how many receipts. */
    mapping(bytes32 => Anchor) private anchors;
    /** Sender => the number of batches it anchored (its last batch's number). */
    mapping(address => uint64) public batches;

    event ReceiptsAnchored(uint64 indexed batch, bytes32 indexed root, uint64 count, address indexed sender);

    /** Anchors `root` as the sender's batch `batch`, which must be its next one. */
    function anchor(uint64 batch, bytes32 root, uint64 count) external {
        require(root != bytes32(0), "empty root");
        require(count > 0, "empty batch");
        require(anchors[root].sender == address(0), "root already anchored");
        require(batch == batches[msg.sender] + 1, "not the next batch");
        batches[msg.sender] = batch;
        anchors[root] = Anchor(msg.sender, batch, uint64(block.number), count);
        emit ReceiptsAnchored(batch, root, count, msg.sender);
    }

    /** The record of `root`; sender is the zero address when it was never anchored. */
    function anchorOf(bytes32 root) external view returns (Anchor memory) {
        return anchors[root];
    }
}
