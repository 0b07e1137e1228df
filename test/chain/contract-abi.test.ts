import { describe, expect, it } from "vitest";
import { sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts";

/**
 * The events of the Web3 SDK reference (seeds/002), as its tables write them.
 * The compiled contracts must emit exactly these: same names, parameter
 * types and names in order, and the same `indexed` flags.
 */
const SEED_EVENTS = {
  SessionV2: {
    SessionCreated: "uint256 sessionId, bytes32 sid, address owner, address[] miners",
    SessionUpdated: "uint256 indexed sessionId, address indexed updater, uint256 minNumOfNodes, uint256 maxNumOfNodes, uint256 redundant",
    SessionDeactivated: "uint256 indexed sessionId, address indexed deactivator",
    TaskSubmitted: "uint256 sessionId, string taskData",
    TaskAssigned: "uint256 sessionId, uint256 taskId, bytes32[] nodeIds",
    NodeReleased: "bytes32 nodeId, uint256 sessionId",
    RouterAdded: "address routerAddress, string routerInfo",
    RouterUpdated: "address routerAddress, string routerInfo",
    RouterRemoved: "address routerAddress",
    AllRoutersRemoved: "uint256 indexed sessionId",
    DedicatedNodeAdded: "address indexed nodeAddress",
    DedicatedNodeRemoved: "address indexed nodeAddress",
    DepositToSession: "uint256 indexed sessionId, address indexed from, uint256 amount",
    WithdrawFromSession: "uint256 indexed sessionId, address indexed to, uint256 amount",
  },
  SessionQueueV2: {
    TaskQueued: "uint256 sessionId, uint256 taskId, uint256 globalId, string taskData",
    TaskAssigned: "uint256 sessionId, uint256 taskId, address[] miners",
    TaskAcked: "uint256 sessionId, uint256 taskId, address miner",
    TaskPrecommitted: "uint256 sessionId, uint256 taskId, address miner",
    TaskAllPrecommitted: "uint256 sessionId, uint256 taskId, address[] miners",
    TaskPrecommitEnded: "uint256 sessionId, uint256 taskId",
    TaskCommitted: "uint256 sessionId, uint256 taskId, address miner",
    TaskAllCommitted: "uint256 sessionId, uint256 taskId, address[] miners",
    TaskCommitEnded: "uint256 sessionId, uint256 taskId",
    TaskEnded: "uint256 sessionId, uint256 taskId, address[] miners",
  },
};

type AbiItem = { type: string; name?: string; inputs?: readonly { type: string; name: string; indexed?: boolean }[] };

function eventsOf(abi: readonly AbiItem[]): Record<string, string> {
  return Object.fromEntries(
    abi.filter((item) => item.type === "event").map((item) => [item.name, (item.inputs ?? []).map((p) => `${p.type}${p.indexed ? " indexed" : ""} ${p.name}`).join(", ")]),
  );
}

function functionsOf(abi: readonly AbiItem[]): string[] {
  return abi.filter((item) => item.type === "function").map((item) => item.name ?? "");
}

describe("reference contracts", () => {
  it("SessionV2 emits exactly the seed's 14 events, parameters and indexed flags included", () => {
    expect(eventsOf(sessionV2Abi)).toEqual(SEED_EVENTS.SessionV2);
  });

  it("SessionQueueV2 emits exactly the seed's 10 events, parameters and indexed flags included", () => {
    expect(eventsOf(sessionQueueV2Abi)).toEqual(SEED_EVENTS.SessionQueueV2);
  });

  it("has every function the seed calls", () => {
    expect(functionsOf(sessionV2Abi)).toEqual(expect.arrayContaining(["create", "getSessions", "getSession", "getSessionMiners", "updateSession"]));
    expect(functionsOf(sessionQueueV2Abi)).toEqual(expect.arrayContaining(["submitTask", "getTasksBySessionId", "getTaskResults"]));
  });
});
