import { z } from "zod";
import { loadConfig } from "../../domain/config/config";
import type { SessionsEnv } from "../session/sessions-env";
import { ApiError } from "../../domain/errors";
import { CompletionRequestSchema } from "../../domain/schemas/completion";
import { sessionClient, submitCompletion } from "../session/session-client";
import { type Address, keccak256, stringToHex } from "viem";
import { attributedRecord, type AttributedRecord } from "../../domain/chain/attributed-results";
import type { ChainDispatch } from "../../domain/schemas/chain";
import type { MinerPin } from "../../domain/sessions/types";
import { lowerAddresses, type PinNote } from "../../domain/miners/miner-pin";

/** The only task data a hybrid session's on-chain task may carry (the seed's submitTask example). */
const ChatTaskSchema = z.object({ type: z.literal("chat"), message: z.string().min(1).max(100_000) });

/**
 * The edge request id of an on-chain task: chain, queue contract, session,
 * task and the hash of its task data name it, so the same task read twice
 * (a resync, a re-read range, a reorg that mines it again) is one edge task,
 * answered from the Session object's idempotency record, while a reorg that
 * puts other task data at the same session and task id makes a new one.
 */
export const chainRequestId = (chainId: number, queueAddress: string, sessionId: number, taskId: number, taskData: string) =>
  `chain-${chainId}-${queueAddress.toLowerCase()}-${sessionId}-${taskId}-${keccak256(stringToHex(taskData)).slice(2, 18)}`;

/** The dispatch record's chain-named miners (`ChainDispatch["named_miners"]`); unreachable and fallback null where the task did not run. */
export type NamedMiners = NonNullable<ChainDispatch["named_miners"]>;

export type DispatchOutcome = (
  | { status: "answered"; edgeTaskId: number; result: string; consensus: string }
  | { status: "failed"; reason: string }
  /** Worth trying again later (no miner free, say). */
  | { status: "retry"; reason: string }
) & { namedMiners?: NamedMiners };

/**
 * Runs one on-chain task of a hybrid session as an edge task: chat task data
 * becomes a chat completion on the mapped edge session, dispatched to its
 * miners with consensus as usual. Task data of any other shape fails the
 * task, with the reason, and never the indexer. `minerPin`: the miners the
 * chain names for it (`IndexStore.namedMiners`), served first; the outcome
 * says which of them could not be reached.
 */
export async function dispatchChainTask(
  env: SessionsEnv,
  task: { chainId: number; queueAddress: string; edgeSessionId: number; requestId: string; taskData: string; minerPin?: MinerPin | undefined },
): Promise<DispatchOutcome> {
  const outcome = await runChainTask(env, task);
  if (!task.minerPin) return outcome;
  // What the edge task recorded of its named miners (which it could not reach); only the names where it did not run.
  const named = lowerAddresses(task.minerPin.addresses);
  const note =
    outcome.status === "answered"
      ? await sessionClient(env, task.edgeSessionId)
          .getTask(outcome.edgeTaskId)
          .then((t) => ("chain_miners" in t ? (t.chain_miners as PinNote | undefined) : undefined))
          .catch(() => undefined)
      : undefined;
  return { ...outcome, namedMiners: note ?? { source: task.minerPin.source, named, unreachable: null, on_probation: null, fallback: null } };
}

async function runChainTask(
  env: SessionsEnv,
  task: { chainId: number; queueAddress: string; edgeSessionId: number; requestId: string; taskData: string; minerPin?: MinerPin | undefined },
): Promise<DispatchOutcome> {
  let data: unknown;
  try {
    data = JSON.parse(task.taskData);
  } catch {
    return { status: "failed", reason: 'task data is not JSON; a hybrid session takes {"type": "chat", "message": ...}' };
  }
  const chat = ChatTaskSchema.safeParse(data);
  if (!chat.success) return { status: "failed", reason: `task data is not {"type": "chat", "message": ...}: ${chat.error.issues[0]?.message ?? "invalid"}` };
  const request = CompletionRequestSchema.parse({ messages: [{ role: "user", content: chat.data.message }], request_id: task.requestId });
  try {
    const { completion } = await submitCompletion(env, loadConfig(env), {
      sessionId: task.edgeSessionId,
      caller: { kind: "chain", id: `${task.chainId}:${task.queueAddress.toLowerCase()}` },
      request,
      flow: "chain",
      minerPin: task.minerPin,
    });
    const choice = completion.choices[0] as { message?: { content?: string | null }; text?: string } | undefined;
    return { status: "answered", edgeTaskId: completion.task_id, result: choice?.message?.content ?? choice?.text ?? "", consensus: completion.consensus.status };
  } catch (err) {
    const apiError = err instanceof ApiError ? err : null;
    if (apiError && (apiError.status === 503 || apiError.status === 504)) return { status: "retry", reason: `${apiError.code}: ${apiError.message}` };
    return { status: "failed", reason: apiError ? `${apiError.code}: ${apiError.message}` : err instanceof Error ? err.message : String(err) };
  }
}

/**
 * What a hybrid task's write-back records: its edge task's receipt gives
 * each signing miner's address and signature (`attributedRecord`). Without
 * a receipt (none kept, or unreadable) the agreed result goes under the
 * router's own chain account, as an unsigned one would.
 */
export async function writeBackRecord(
  env: SessionsEnv,
  row: { edge_session_id: number; edge_task_id: number | null; result: string | null },
  routerAccount: Address,
): Promise<AttributedRecord | undefined> {
  if (row.edge_task_id === null) return undefined;
  const receipt = await sessionClient(env, row.edge_session_id)
    .getReceipt(row.edge_task_id)
    .catch(() => null);
  return receipt ? attributedRecord(receipt, row.result ?? "", routerAccount) : undefined;
}
