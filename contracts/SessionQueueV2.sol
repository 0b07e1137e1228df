// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SessionV2} from "./SessionV2.sol";

/**
 * Reference SessionQueueV2: the functions and events of the Cortensor Web3
 * SDK reference (submitTask, getTasksBySessionId, getTaskResults; its 10
 * events with their exact parameters), plus the smallest queue steps the
 * reference names no function for (assign, ack, precommit, end precommit,
 * commit, end commit, end), which are this project's. A step is taken by a
 * router registered in SessionV2 that may serve the session; ack, precommit
 * and commit also by the miner itself. A commit must reveal what its
 * precommit hashed (SHA-256, as the router's precommit is).
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

    SessionV2 public immutable sessionContract;
    uint256 public globalCount;
    mapping(uint256 => Task[]) private tasks;
    // globalId => miner => what it precommitted / whether it acked
    mapping(uint256 => mapping(address => bytes32)) private precommits;
    mapping(uint256 => mapping(address => bool)) private acked;
    mapping(uint256 => uint256) private precommitCount;
    mapping(uint256 => address[]) private committedMiners;
    mapping(uint256 => string[]) private results;

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
