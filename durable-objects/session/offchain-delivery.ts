import { issueAssignmentToken, type AssignmentClaims } from "../../domain/auth/assignment-token";
import { sha256Hex } from "../../domain/crypto/sha256";
import { ApiError } from "../../domain/errors";
import { callMiner } from "../../domain/miners/call-miner";
import type { CallMinerOptions, MinerOutput, ReportedUsage } from "../../domain/miners/miner-output";
import type { MinerRequest } from "../../domain/schemas/completion";
import type { MinerTarget } from "../../domain/schemas/miner";
import type { SessionRef, TaskPayloads } from "./task-payloads";
import type { TaskStore } from "./task-store";

export type OffchainTask = { sessionId: number; taskId: number; deadline: number; promptUrn: string; origin: string };
type Delivered = Omit<MinerOutput, "latencyMs">;

/**
 * The off-chain side of a task: miners that resolve URNs themselves get the
 * prompt's URN, where to fetch it, where to deliver the result, and a token
 * good for that task only. Deliveries arrive over HTTP on another request
 * and are handed to the miner call still waiting for them here.
 */
export class OffchainDelivery {
  /** Miner calls waiting for a delivery, by `${taskId}:${minerId}`. */
  private readonly waiting = new Map<string, (output: Delivered) => void>();

  constructor(
    private readonly store: TaskStore,
    private readonly payloads: TaskPayloads,
    private readonly settings: { masterKey: string; publicUrl: string | undefined },
  ) {}

  async call(task: OffchainTask, target: MinerTarget, request: MinerRequest, options: Pick<CallMinerOptions, "signal" | "onAck" | "onDelta" | "headers">): Promise<MinerOutput> {
    const token = await issueAssignmentToken(this.settings.masterKey, { s: task.sessionId, t: task.taskId, m: target.id, exp: task.deadline });
    const origin = this.settings.publicUrl ?? task.origin;
    const { prompt: _p, messages: _m, ...params } = request;
    const byUrn: MinerRequest = request.kind === "chat" ? { ...params, messages: [{ role: "user", content: task.promptUrn }] } : { ...params, prompt: task.promptUrn };
    return callMiner(target, byUrn, {
      ...options,
      extension: {
        cortensor: {
          session_id: task.sessionId,
          task_id: task.taskId,
          prompt_urn: task.promptUrn,
          payload_format: request.kind === "chat" ? "messages-json" : "text",
          payload_url: `${origin}/api/v3/offchain/payload?urn=${encodeURIComponent(task.promptUrn)}`,
          result_url: `${origin}/api/v3/offchain/result`,
          token,
        },
      },
      awaitDelivery: () => this.awaitDelivery(task.taskId, target.id, options.signal),
    });
  }

  private awaitDelivery(taskId: number, minerId: string, signal: AbortSignal): Promise<Delivered> {
    const key = `${taskId}:${minerId}`;
    return new Promise((resolve, reject) => {
      const abort = () => {
        this.waiting.delete(key);
        reject(signal.reason);
      };
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      this.waiting.set(key, (output) => {
        signal.removeEventListener("abort", abort);
        this.waiting.delete(key);
        resolve(output);
      });
    });
  }

  /** An assigned miner's result: stored as a payload, then judged like any result (its reported usage, audited like any). */
  async deliver(session: SessionRef, claims: AssignmentClaims, text: string, signature?: string, usage?: ReportedUsage): Promise<{ urn: string; sha256: string }> {
    const task = this.store.task(claims.t);
    if (!task?.payload_version) throw new ApiError(404, "task_not_found", `task ${claims.t} has no off-chain payloads`);
    const waiter = this.waiting.get(`${claims.t}:${claims.m}`);
    if (!waiter) throw new ApiError(409, "not_awaiting_result", `task ${claims.t} is not awaiting a result from miner ${claims.m}`);
    const slot = this.store.slotOf(claims.t, claims.m) ?? 0;
    const stored = await this.payloads.store(session, claims.t, task.payload_version, `result-${slot}`, text);
    this.store.setAssignmentResultUrn(claims.t, claims.m, stored.urn);
    waiter({ text, finishReason: "stop", usage: usage ?? null, ...(signature ? { signature } : {}) });
    return { urn: stored.urn, sha256: await sha256Hex(text) };
  }

  /** The prompt of a task, for a miner while its own assignment is open (even after the task was decided: late results count). */
  async readPrompt(session: SessionRef, claims: AssignmentClaims, urn: string): Promise<string> {
    const task = this.store.task(claims.t);
    if (!task || task.prompt_urn !== urn || !this.store.isAssignmentOpen(claims.t, claims.m)) {
      throw new ApiError(403, "payload_access_denied", "this assignment does not grant access to that payload");
    }
    return this.payloads.read(session, claims.t, urn);
  }
}
