// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SessionV2} from "./SessionV2.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/**
 * Reference SessionQueueV2: the functions and events of the Cortensor Web3
 * SDK reference (submitTask, getTasksBySessionId, getTaskResults; its 10
 * events with their exact parameters), plus the smallest queue steps the
 * reference names no function for (assign, ack, precommit, end precommit,
 * commit, end commit, end), which are this project's. A step is taken by a
 * router registered in SessionV2 that may serve the session; ack, precommit
 * and commit also by the miner itself. A commit must reveal what its
 * precommit hashed (SHA-256, as the router's precommit is).
 *
 * This project's too: the attributed write-back (recordTask, recordTasks,
 * declareResultSigner). A router records a task from assignment to end in
 * one transaction, each result under the address of the miner that signed
 * it: the miner's own EIP-191 signature of the text it already signs for
 * the router (domain/miners/result-signature.ts), rebuilt and checked here.
 */
contract SessionQueueV2 {
    enum Status {
        Queued,
        Assigned,
        PrecommitEnded,
        CommitEnded,
        Ended
    }

    struct Task {
        uint256 id;
        uint256 globalId;
        uint256 sessionId;
        string taskData;
        Status status;
        address[] miners;
        uint256 createdAt;
    }

    event TaskQueued(uint256 sessionId, uint256 taskId, uint256 globalId, string taskData);
    event TaskAssigned(uint256 sessionId, uint256 taskId, address[] miners);
    event TaskAcked(uint256 sessionId, uint256 taskId, address miner);
    event TaskPrecommitted(uint256 sessionId, uint256 taskId, address miner);
    event TaskAllPrecommitted(uint256 sessionId, uint256 taskId, address[] miners);
    event TaskPrecommitEnded(uint256 sessionId, uint256 taskId);
    event TaskCommitted(uint256 sessionId, uint256 taskId, address miner);
    event TaskAllCommitted(uint256 sessionId, uint256 taskId, address[] miners);
    event TaskCommitEnded(uint256 sessionId, uint256 taskId);
    event TaskEnded(uint256 sessionId, uint256 taskId, address[] miners);

    /** This project's: the router's claim a miner signed (the edge task the miner answered; see resultText). */
    struct ResultClaim {
        address router;
        uint256 edgeSessionId;
        uint256 edgeTaskId;
        bytes32 requestHash;
    }

    /**
     * This project's: one answer. `signature` is the miner's signature of the
     * claim with the SHA-256 of `result`; empty only where `miner` is the
     * sending router itself (an unsigned result, the router's own word).
     */
    struct SignedResult {
        address miner;
        string result;
        bytes signature;
    }

    /** This project's: one task of a batch for recordTasks. */
    struct TaskRecord {
        uint256 sessionId;
        uint256 taskId;
        ResultClaim claim;
        SignedResult[] results;
    }

    SessionV2 public immutable sessionContract;
    uint256 public globalCount;
    mapping(uint256 => Task[]) private tasks;
    // globalId => miner => what it precommitted / whether it acked
    mapping(uint256 => mapping(address => bytes32)) private precommits;
    mapping(uint256 => mapping(address => bool)) private acked;
    mapping(uint256 => uint256) private precommitCount;
    mapping(uint256 => address[]) private committedMiners;
    mapping(uint256 => string[]) private results;
    /** This project's: the router identity (the address miners sign for) a router's chain account declared, with its proof. */
    mapping(address => address) public resultSigner;
    /** This project's: a miner's signature of one edge task's result records one on-chain result, once. */
    mapping(bytes32 => bool) public claimUsed;

    constructor(SessionV2 sessionContract_) {
        sessionContract = sessionContract_;
    }

    function submitTask(uint256 sessionId, string calldata taskData) external returns (uint256 taskId) {
        sessionContract.onTaskSubmitted(sessionId, taskData);
        taskId = tasks[sessionId].length;
        uint256 globalId = globalCount++;
        Task storage t = tasks[sessionId].push();
        t.id = taskId;
        t.globalId = globalId;
        t.sessionId = sessionId;
        t.taskData = taskData;
        t.createdAt = block.number;
        emit TaskQueued(sessionId, taskId, globalId, taskData);
    }

    function getTasksBySessionId(uint256 sessionId) external view returns (Task[] memory) {
        return tasks[sessionId];
    }

    function getTaskResults(uint256 sessionId, uint256 taskId) external view returns (address[] memory miners, string[] memory taskResults) {
        Task storage t = task(sessionId, taskId);
        return (committedMiners[t.globalId], results[t.globalId]);
    }

    /** This project's. */
    function assignTask(uint256 sessionId, uint256 taskId, address[] calldata miners) external {
        onlyRouter(sessionId);
        Task storage t = task(sessionId, taskId);
        require(t.status == Status.Queued, "not queued");
        require(miners.length > 0, "no miners");
        t.status = Status.Assigned;
        t.miners = miners;
        emit TaskAssigned(sessionId, taskId, miners);
        sessionContract.onTaskAssigned(sessionId, taskId, miners);
    }

    /** This project's. */
    function ackTask(uint256 sessionId, uint256 taskId, address miner) external {
        Task storage t = assignedTo(sessionId, taskId, miner);
        require(t.status == Status.Assigned, "not assigned");
        require(!acked[t.globalId][miner], "already acked");
        acked[t.globalId][miner] = true;
        emit TaskAcked(sessionId, taskId, miner);
    }

    /** This project's: `resultHash` is the SHA-256 of the result the miner will commit. */
    function precommitTask(uint256 sessionId, uint256 taskId, address miner, bytes32 resultHash) external {
        Task storage t = assignedTo(sessionId, taskId, miner);
        require(t.status == Status.Assigned, "not in precommit");
        require(resultHash != bytes32(0), "empty hash");
        require(precommits[t.globalId][miner] == bytes32(0), "already precommitted");
        precommits[t.globalId][miner] = resultHash;
        emit TaskPrecommitted(sessionId, taskId, miner);
        if (++precommitCount[t.globalId] == t.miners.length) emit TaskAllPrecommitted(sessionId, taskId, t.miners);
    }

    /** This project's. */
    function endPrecommit(uint256 sessionId, uint256 taskId) external {
        onlyRouter(sessionId);
        Task storage t = task(sessionId, taskId);
        require(t.status == Status.Assigned, "not in precommit");
        t.status = Status.PrecommitEnded;
        emit TaskPrecommitEnded(sessionId, taskId);
    }

    /** This project's: reveals a precommitted result (its text, or its URN). */
    function commitTask(uint256 sessionId, uint256 taskId, address miner, string calldata result) external {
        Task storage t = assignedTo(sessionId, taskId, miner);
        require(t.status == Status.PrecommitEnded, "not in commit");
        bytes32 hash = precommits[t.globalId][miner];
        require(hash != bytes32(0), "not precommitted");
        require(sha256(bytes(result)) == hash, "result does not match precommit");
        address[] storage committed = committedMiners[t.globalId];
        for (uint256 i = 0; i < committed.length; i++) require(committed[i] != miner, "already committed");
        committed.push(miner);
        results[t.globalId].push(result);
        emit TaskCommitted(sessionId, taskId, miner);
        if (committed.length == precommitCount[t.globalId]) emit TaskAllCommitted(sessionId, taskId, committed);
    }

    /** This project's. */
    function endCommit(uint256 sessionId, uint256 taskId) external {
        onlyRouter(sessionId);
        Task storage t = task(sessionId, taskId);
        require(t.status == Status.PrecommitEnded, "not in commit");
        t.status = Status.CommitEnded;
        emit TaskCommitEnded(sessionId, taskId);
    }

    /** This project's: TaskEnded names the miners whose results were committed. */
    function endTask(uint256 sessionId, uint256 taskId) external {
        onlyRouter(sessionId);
        Task storage t = task(sessionId, taskId);
        require(t.status == Status.CommitEnded, "commit not ended");
        t.status = Status.Ended;
        emit TaskEnded(sessionId, taskId, committedMiners[t.globalId]);
    }

    /**
     * This project's. Lets the router's chain account submit results miners
     * signed for `signer` (the router's receipt-signing identity, a separate
     * key): `proof` is `signer`'s EIP-191 signature of
     * "cortensor-chain-account:v1\naccount:<this account, lowercase hex>".
     */
    function declareResultSigner(address signer, bytes calldata proof) external {
        bytes memory text = abi.encodePacked("cortensor-chain-account:v1\naccount:", Strings.toHexString(msg.sender));
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(MessageHashUtils.toEthSignedMessageHash(text), proof);
        require(err == ECDSA.RecoverError.NoError && recovered == signer && signer != address(0), "proof is not the signer's");
        resultSigner[msg.sender] = signer;
    }

    /**
     * This project's: records a queued task from assignment to end in one
     * call, emitting the seed's events in the order the step functions do
     * (TaskAssigned; per miner TaskAcked, TaskPrecommitted; TaskAllPrecommitted;
     * TaskPrecommitEnded; per miner TaskCommitted; TaskAllCommitted;
     * TaskCommitEnded; TaskEnded). Reverts, writing nothing, if any result's
     * signature does not recover to its miner.
     */
    function recordTask(uint256 sessionId, uint256 taskId, ResultClaim calldata claim, SignedResult[] calldata answers) external {
        record(sessionId, taskId, claim, answers);
    }

    /** This project's: recordTask for many tasks in one transaction. */
    function recordTasks(TaskRecord[] calldata records) external {
        for (uint256 i = 0; i < records.length; i++) record(records[i].sessionId, records[i].taskId, records[i].claim, records[i].results);
    }

    /** This project's: the exact text a miner signs (domain/miners/result-signature.ts resultMessage). */
    function resultText(ResultClaim calldata claim, bytes32 outputHash) public pure returns (string memory) {
        return string.concat(
            "cortensor-result:v1\nrouter:",
            Strings.toHexString(claim.router),
            "\nsession:",
            Strings.toString(claim.edgeSessionId),
            "\ntask:",
            Strings.toString(claim.edgeTaskId),
            "\nrequest:",
            bareHex(claim.requestHash),
            "\noutput:",
            bareHex(outputHash)
        );
    }

    function record(uint256 sessionId, uint256 taskId, ResultClaim calldata claim, SignedResult[] calldata answers) private {
        onlyRouter(sessionId);
        Task storage t = task(sessionId, taskId);
        require(t.status == Status.Queued, "not queued");
        require(answers.length > 0, "no results");
        require(claim.router == msg.sender || claim.router == resultSigner[msg.sender], "claim names another router");
        address[] memory miners = new address[](answers.length);
        for (uint256 i = 0; i < answers.length; i++) {
            miners[i] = answers[i].miner;
            for (uint256 j = 0; j < i; j++) require(miners[j] != miners[i], "miner twice");
        }
        t.status = Status.Assigned;
        t.miners = miners;
        emit TaskAssigned(sessionId, taskId, miners);
        sessionContract.onTaskAssigned(sessionId, taskId, miners);

        uint256 g = t.globalId;
        for (uint256 i = 0; i < answers.length; i++) {
            bytes32 hash = sha256(bytes(answers[i].result));
            checkSigned(claim, answers[i], hash);
            acked[g][miners[i]] = true;
            emit TaskAcked(sessionId, taskId, miners[i]);
            precommits[g][miners[i]] = hash;
            emit TaskPrecommitted(sessionId, taskId, miners[i]);
        }
        precommitCount[g] = answers.length;
        emit TaskAllPrecommitted(sessionId, taskId, miners);
        emit TaskPrecommitEnded(sessionId, taskId);

        for (uint256 i = 0; i < answers.length; i++) {
            committedMiners[g].push(miners[i]);
            results[g].push(answers[i].result);
            emit TaskCommitted(sessionId, taskId, miners[i]);
        }
        emit TaskAllCommitted(sessionId, taskId, miners);
        emit TaskCommitEnded(sessionId, taskId);
        t.status = Status.Ended;
        emit TaskEnded(sessionId, taskId, miners);
    }

    /** A result stands under a miner's address only with that miner's signature; the router's own needs none (it sends the transaction). */
    function checkSigned(ResultClaim calldata claim, SignedResult calldata answer, bytes32 outputHash) private {
        if (answer.signature.length == 0 && answer.miner == msg.sender) return;
        bytes32 digest = MessageHashUtils.toEthSignedMessageHash(bytes(resultText(claim, outputHash)));
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, answer.signature);
        require(err == ECDSA.RecoverError.NoError && signer == answer.miner, "result not signed by its miner");
        bytes32 key = keccak256(abi.encode(claim.router, claim.edgeSessionId, claim.edgeTaskId, answer.miner));
        require(!claimUsed[key], "signature already recorded");
        claimUsed[key] = true;
    }

    /** 64 lowercase hex digits, no 0x: how the signed text writes a SHA-256. */
    function bareHex(bytes32 value) private pure returns (string memory) {
        bytes memory prefixed = bytes(Strings.toHexString(uint256(value), 32));
        bytes memory digits = new bytes(64);
        for (uint256 i = 0; i < 64; i++) digits[i] = prefixed[i + 2];
        return string(digits);
    }

    function task(uint256 sessionId, uint256 taskId) private view returns (Task storage) {
        require(taskId < tasks[sessionId].length, "no such task");
        return tasks[sessionId][taskId];
    }

    function onlyRouter(uint256 sessionId) private view {
        require(sessionContract.canServe(msg.sender, sessionId), "not a router of the session");
    }

    function assignedTo(uint256 sessionId, uint256 taskId, address miner) private view returns (Task storage t) {
        t = task(sessionId, taskId);
        if (msg.sender != miner) onlyRouter(sessionId);
        bool found = false;
        for (uint256 i = 0; i < t.miners.length; i++) if (t.miners[i] == miner) found = true;
        require(found, "miner not assigned");
    }
}
