import { majority } from "../../domain/consensus/agreement";
import { requiredAgreement } from "../../domain/consensus/status";
import { ApiError } from "../../domain/errors";
import type { SessionConfig } from "../../domain/schemas/session";
import type { ShardLayout } from "../../domain/sessions/shard-layout";
import type { SubmitInput } from "../../domain/sessions/types";
import { minerRequestFor } from "./miner-request";

/** A configured session as the object reads it: its settings, and which of its shards this object is. */
export type Configured = { id: number; config: SessionConfig; shard: number; version: string; layout: ShardLayout; createdAt: number };

/** Why the session refuses a task before anything is recorded, or null when it takes it. */
export function refusal(session: Configured, input: SubmitInput): ApiError | null {
  if (!session.config.active) return new ApiError(409, "session_inactive", `session ${input.sessionId} is deactivated`);
  // Private means the router never holds plaintext: only the off-chain flows keep the prompt out of its records.
  if (session.config.private && !input.payload) {
    return new ApiError(
      409,
      "private_session_requires_offchain",
      `session ${input.sessionId} is private: submit through /api/v2/completions or /api/v3/completions, which store payloads encrypted`,
    );
  }
  return null;
}

/** Everything a task is recorded and run with, decided before it starts. */
export function planTask(session: Configured, input: SubmitInput, created: number) {
  const request = minerRequestFor(input.request, session.config.model, input.policy);
  const redundancy = input.policy?.redundancy ?? session.config.redundancy;
  // Off-chain tasks keep only the URN of their prompt, never the text.
  const { prompt: _p, messages: _m, ...params } = request;
  return {
    request,
    promptText: input.request.prompt ?? JSON.stringify(input.request.messages),
    recorded: input.payload ? params : request,
    redundancy,
    commitPolicy: input.policy?.commitPolicy ?? session.config.commit_policy,
    // A session that needs every miner to agree waits for every miner.
    decisive: Math.max(majority(redundancy), requiredAgreement(session.config.consensus_policy, redundancy)),
    created,
    deadline: created + Math.round(input.timeouts.timeoutS * 1000),
    precommitDeadline: created + Math.round(input.timeouts.precommitS * 1000),
    collect: input.policy?.collect ?? false,
  };
}
export type TaskPlan = ReturnType<typeof planTask>;
