// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * Reference SessionV2: the functions and events of the Cortensor Web3 SDK
 * reference (create, getSessions, getSession, getSessionMiners,
 * updateSession; its 14 events with their exact parameters), plus the
 * smallest functions that emit the events the reference names no function
 * for (deactivate, deposit/withdraw, routers, dedicated nodes, node release,
 * and the two hooks SessionQueueV2 calls). Those extras are this project's,
 * not the reference's. A node id is the node's address, left-padded to 32 bytes.
 */
contract SessionV2 {
    struct Session {
        uint256 id;
        bytes32 sid;
        address owner;
        string name;
        string metadata;
        uint256 minNumOfNodes;
        uint256 maxNumOfNodes;
        uint256 redundant;
        uint256 numOfValidatorNodes;
        uint256 mode;
        bool reserveEphemeralNodes;
        bool active;
        bool routersRemoved;
        uint256 balance;
        address[] miners;
        uint256 createdAt;
    }

    event SessionCreated(uint256 sessionId, bytes32 sid, address owner, address[] miners);
    event SessionUpdated(uint256 indexed sessionId, address indexed updater, uint256 minNumOfNodes, uint256 maxNumOfNodes, uint256 redundant);
    event SessionDeactivated(uint256 indexed sessionId, address indexed deactivator);
    event TaskSubmitted(uint256 sessionId, string taskData);
    event TaskAssigned(uint256 sessionId, uint256 taskId, bytes32[] nodeIds);
    event NodeReleased(bytes32 nodeId, uint256 sessionId);
    event RouterAdded(address routerAddress, string routerInfo);
    event RouterUpdated(address routerAddress, string routerInfo);
    event RouterRemoved(address routerAddress);
    event AllRoutersRemoved(uint256 indexed sessionId);
    event DedicatedNodeAdded(address indexed nodeAddress);
    event DedicatedNodeRemoved(address indexed nodeAddress);
    event DepositToSession(uint256 indexed sessionId, address indexed from, uint256 amount);
    event WithdrawFromSession(uint256 indexed sessionId, address indexed to, uint256 amount);

    address public admin;
    address public queue;
    Session[] private sessions;
    mapping(address => uint256[]) private sessionsByOwner;
    mapping(address => string) public routerInfo;
    mapping(address => bool) public isRouter;
    address[] private dedicatedNodes;

    constructor() {
        admin = msg.sender;
    }

    modifier onlyAdmin() {
        require(msg.sender == admin, "not admin");
        _;
    }

    modifier onlyQueue() {
        require(msg.sender == queue, "not queue");
        _;
    }

    modifier onlyOwner(uint256 sessionId) {
        require(sessionId < sessions.length, "no such session");
        require(msg.sender == sessions[sessionId].owner, "not session owner");
        _;
    }

    /** This project's: the queue contract whose hooks may emit TaskSubmitted and TaskAssigned; set once. */
    function setQueue(address queue_) external onlyAdmin {
        require(queue == address(0), "queue already set");
        queue = queue_;
    }

    function create(
        string calldata name,
        string calldata metadata,
        address owner,
        uint256 minNumOfNodes,
        uint256 maxNumOfNodes,
        uint256 redundant,
        uint256 numOfValidatorNodes,
        uint256 mode,
        bool reserveEphemeralNodes
    ) external returns (uint256 sessionId) {
        require(owner != address(0), "owner is zero");
        require(minNumOfNodes > 0 && minNumOfNodes <= maxNumOfNodes, "bad node bounds");
        require(redundant > 0 && redundant <= maxNumOfNodes, "bad redundancy");
        require(mode <= 2, "bad mode");
        sessionId = sessions.length;
        Session storage s = sessions.push();
        s.id = sessionId;
        s.sid = keccak256(abi.encode(address(this), sessionId, owner, block.number));
        s.owner = owner;
        s.name = name;
        s.metadata = metadata;
        s.minNumOfNodes = minNumOfNodes;
        s.maxNumOfNodes = maxNumOfNodes;
        s.redundant = redundant;
        s.numOfValidatorNodes = numOfValidatorNodes;
        s.mode = mode;
        s.reserveEphemeralNodes = reserveEphemeralNodes;
        s.active = true;
        s.createdAt = block.number;
        // A dedicated session (mode 2) is served by the dedicated nodes registered now; a hybrid one (mode 1)
        // names them too, beside the ephemeral nodes its router adds (a router serves a hybrid session's
        // tasks with the named nodes where it has them: domain/miners/miner-pin.ts).
        if (mode == 1 || mode == 2) {
            for (uint256 i = 0; i < dedicatedNodes.length && s.miners.length < maxNumOfNodes; i++) s.miners.push(dedicatedNodes[i]);
        }
        sessionsByOwner[owner].push(sessionId);
        emit SessionCreated(sessionId, s.sid, owner, s.miners);
    }

    function getSessions(address owner) external view returns (Session[] memory list) {
        uint256[] storage ids = sessionsByOwner[owner];
        list = new Session[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) list[i] = sessions[ids[i]];
    }

    function getSession(uint256 sessionId) external view returns (Session memory) {
        require(sessionId < sessions.length, "no such session");
        return sessions[sessionId];
    }

    function getSessionMiners(uint256 sessionId) external view returns (address[] memory) {
        require(sessionId < sessions.length, "no such session");
        return sessions[sessionId].miners;
    }

    function sessionCount() external view returns (uint256) {
        return sessions.length;
    }

    function updateSession(uint256 sessionId, string calldata name, string calldata metadata, uint256 minNumOfNodes, uint256 maxNumOfNodes, uint256 redundant)
        external
        onlyOwner(sessionId)
    {
        require(minNumOfNodes > 0 && minNumOfNodes <= maxNumOfNodes, "bad node bounds");
        require(redundant > 0 && redundant <= maxNumOfNodes, "bad redundancy");
        Session storage s = sessions[sessionId];
        s.name = name;
        s.metadata = metadata;
        s.minNumOfNodes = minNumOfNodes;
        s.maxNumOfNodes = maxNumOfNodes;
        s.redundant = redundant;
        emit SessionUpdated(sessionId, msg.sender, minNumOfNodes, maxNumOfNodes, redundant);
    }

    /** This project's. */
    function deactivate(uint256 sessionId) external onlyOwner(sessionId) {
        require(sessions[sessionId].active, "already inactive");
        sessions[sessionId].active = false;
        emit SessionDeactivated(sessionId, msg.sender);
    }

    /** This project's: anyone may fund a session. */
    function deposit(uint256 sessionId) external payable {
        require(sessionId < sessions.length, "no such session");
        require(msg.value > 0, "nothing deposited");
        sessions[sessionId].balance += msg.value;
        emit DepositToSession(sessionId, msg.sender, msg.value);
    }

    /** This project's: the owner takes funds back. */
    function withdraw(uint256 sessionId, uint256 amount) external onlyOwner(sessionId) {
        Session storage s = sessions[sessionId];
        require(amount > 0 && amount <= s.balance, "bad amount");
        s.balance -= amount;
        emit WithdrawFromSession(sessionId, msg.sender, amount);
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
    }

    /** This project's: routers are registered by the admin. */
    function addRouter(address routerAddress, string calldata info) external onlyAdmin {
        require(!isRouter[routerAddress], "already a router");
        isRouter[routerAddress] = true;
        routerInfo[routerAddress] = info;
        emit RouterAdded(routerAddress, info);
    }

    /** This project's. */
    function updateRouter(address routerAddress, string calldata info) external onlyAdmin {
        require(isRouter[routerAddress], "not a router");
        routerInfo[routerAddress] = info;
        emit RouterUpdated(routerAddress, info);
    }

    /** This project's. */
    function removeRouter(address routerAddress) external onlyAdmin {
        require(isRouter[routerAddress], "not a router");
        isRouter[routerAddress] = false;
        delete routerInfo[routerAddress];
        emit RouterRemoved(routerAddress);
    }

    /** This project's: the owner takes a session away from every router (none may serve it any more). */
    function removeAllRouters(uint256 sessionId) external onlyOwner(sessionId) {
        sessions[sessionId].routersRemoved = true;
        emit AllRoutersRemoved(sessionId);
    }

    /** This project's. */
    function addDedicatedNode(address nodeAddress) external onlyAdmin {
        for (uint256 i = 0; i < dedicatedNodes.length; i++) require(dedicatedNodes[i] != nodeAddress, "already dedicated");
        dedicatedNodes.push(nodeAddress);
        emit DedicatedNodeAdded(nodeAddress);
    }

    /** This project's. */
    function removeDedicatedNode(address nodeAddress) external onlyAdmin {
        for (uint256 i = 0; i < dedicatedNodes.length; i++) {
            if (dedicatedNodes[i] == nodeAddress) {
                dedicatedNodes[i] = dedicatedNodes[dedicatedNodes.length - 1];
                dedicatedNodes.pop();
                emit DedicatedNodeRemoved(nodeAddress);
                return;
            }
        }
        revert("not dedicated");
    }

    function getDedicatedNodes() external view returns (address[] memory) {
        return dedicatedNodes;
    }

    /** This project's: the owner releases a miner from the session. */
    function releaseNode(uint256 sessionId, bytes32 nodeId) external onlyOwner(sessionId) {
        address[] storage miners = sessions[sessionId].miners;
        address node = address(uint160(uint256(nodeId)));
        for (uint256 i = 0; i < miners.length; i++) {
            if (miners[i] == node) {
                miners[i] = miners[miners.length - 1];
                miners.pop();
                emit NodeReleased(nodeId, sessionId);
                return;
            }
        }
        revert("not a miner of the session");
    }

    /** This project's hook: SessionQueueV2.submitTask announces a task of an active session. */
    function onTaskSubmitted(uint256 sessionId, string calldata taskData) external onlyQueue {
        require(sessionId < sessions.length, "no such session");
        require(sessions[sessionId].active, "session inactive");
        emit TaskSubmitted(sessionId, taskData);
    }

    /** This project's hook: SessionQueueV2.assignTask announces the nodes a task went to. */
    function onTaskAssigned(uint256 sessionId, uint256 taskId, address[] calldata miners) external onlyQueue {
        bytes32[] memory nodeIds = new bytes32[](miners.length);
        for (uint256 i = 0; i < miners.length; i++) nodeIds[i] = bytes32(uint256(uint160(miners[i])));
        emit TaskAssigned(sessionId, taskId, nodeIds);
    }

    /** Whether a router may serve the session (used by SessionQueueV2). */
    function canServe(address router, uint256 sessionId) external view returns (bool) {
        return isRouter[router] && sessionId < sessions.length && !sessions[sessionId].routersRemoved;
    }
}
