import { z } from "@hono/zod-openapi";

/** Session modes of the Web3 SDK reference. */
export const CHAIN_SESSION_MODES = ["ephemeral", "hybrid", "dedicated"] as const;

const uint = z.string().regex(/^\d+$/).openapi({ description: "a uint256 as a decimal string" });
const address = z.string().openapi({ example: "0x5fbdb2315678afecb367f032d93f642f64180aa3" });
const JsonRecord = z.record(z.string(), z.unknown());

export const ChainStatusSchema = z
  .object({
    state: z.enum(["unconfigured", "misconfigured", "configured"]).openapi({ description: "whether CHAIN_* configure an index" }),
    problems: z.array(z.string()).openapi({ description: "why the chain configuration is refused (the rest of the router serves regardless)" }),
    chain_id: z.number().int().nullable(),
    session_address: z.string().nullable(),
    queue_address: z.string().nullable(),
    start_block: z.number().int().nullable(),
    confirmations: z.number().int().nullable(),
    status: z.enum(["not_started", "running", "stopped"]).openapi({ description: "stopped: a reorg deeper than the kept window; an admin resync restarts it" }),
    stop_reason: z.string().nullable(),
    cursor: z.number().int().nullable().openapi({ description: "the last block indexed" }),
    head: z.number().int().nullable().openapi({ description: "the chain head at the last tick" }),
    safe_head: z.number().int().nullable().openapi({ description: "head minus confirmations: the highest block that may be indexed" }),
    lag: z.number().int().nullable().openapi({ description: "confirmed blocks not indexed yet" }),
    reorg_count: z.number().int(),
    range_size: z.number().int().nullable().openapi({ description: "the eth_getLogs block range in use (shrinks when refused, grows back)" }),
    failures: z.number().int().openapi({ description: "ticks failed in a row" }),
    last_error: z.string().nullable(),
    last_error_at: z.string().nullable(),
    last_tick_at: z.string().nullable(),
    last_success_at: z.string().nullable(),
    events: z.number().int(),
    undecodable_logs: z.number().int(),
  })
  .openapi("ChainStatus");

export const ChainSessionSchema = z
  .object({
    source: z.literal("chain"),
    chain_id: z.number().int(),
    session_id: z.number().int(),
    sid: z.string(),
    owner: address,
    name: z.string().nullable(),
    metadata: z.string().nullable(),
    min_nodes: z.number().int().nullable(),
    max_nodes: z.number().int().nullable(),
    redundant: z.number().int().nullable(),
    validator_nodes: z.number().int().nullable(),
    mode: z.number().int().nullable(),
    mode_name: z.enum(CHAIN_SESSION_MODES).nullable(),
    reserve_ephemeral_nodes: z.boolean().nullable(),
    miners: z.array(address),
    deposited: uint,
    withdrawn: uint,
    balance: uint,
    active: z.boolean(),
    routers_removed: z.boolean(),
    created_block: z.number().int(),
    updated_block: z.number().int(),
  })
  .openapi("ChainSession");

export const ChainEventSchema = z
  .object({
    block_number: z.number().int(),
    log_index: z.number().int(),
    block_hash: z.string(),
    tx_hash: z.string(),
    contract: z.enum(["SessionV2", "SessionQueueV2"]),
    address,
    event: z.string(),
    session_id: z.number().int().nullable(),
    task_id: z.number().int().nullable(),
    args: JsonRecord,
    extra: JsonRecord.nullable().openapi({ description: "what the event leaves out, read with the contract's view functions at its block" }),
  })
  .openapi("ChainEvent");

export const ChainTaskSchema = z
  .object({
    session_id: z.number().int(),
    task_id: z.number().int(),
    global_id: z.number().int(),
    task_data: z.string(),
    status: z.enum(["queued", "assigned", "precommit_ended", "commit_ended", "ended"]),
    miners: z.array(address),
    node_ids: z.array(z.string()),
    acked: z.array(address),
    precommitted: z.array(address),
    committed: z.array(address),
    results: z.object({ miners: z.array(address), results: z.array(z.string()) }).nullable(),
    queued_block: z.number().int(),
    updated_block: z.number().int(),
  })
  .openapi("ChainTask");

export const ChainDispatchSchema = z
  .object({
    edge_session_id: z.number().int(),
    request_id: z.string().openapi({
      description:
        "derived from chain, queue contract, session, task and the hash of its task data: one edge task however often the chain is read; other task data in its place after a reorg, another",
    }),
    queued_tx: z.string().nullable().openapi({ description: "the transaction of the task's TaskQueued log (null: queued before it was kept)" }),
    status: z.enum(["pending", "answered", "failed"]),
    reason: z.string().nullable().openapi({ description: "why it failed (task data that is not a chat task, no consensus, …)" }),
    edge_task_id: z.number().int().nullable(),
    result: z.string().nullable(),
    consensus: z.string().nullable(),
    attempts: z.number().int(),
    writeback: z
      .object({
        status: z.enum(["pending", "done", "failed"]),
        error: z.string().nullable(),
        transaction: z.string().nullable().openapi({ description: "the transaction that recorded it (null: found already ended on chain)" }),
        block_number: z.number().int().nullable(),
      })
      .nullable()
      .openapi({ description: "with CHAIN_WRITEBACK: the result recorded on the queue contract" }),
    named_miners: z
      .object({
        source: z.enum(["session", "task"]),
        named: z.array(z.string()),
        unreachable: z.array(z.string()).nullable(),
        on_probation: z.array(z.string()).nullable(),
        fallback: z.boolean().nullable(),
      })
      .nullable()
      .openapi({
        description:
          "the miners the on-chain session (SessionCreated) or task (TaskAssigned) names, served first by their registered miners; unreachable: named addresses no registered, available miner holds; on_probation: named miners on probation (only in the task's probation seats); fallback: the edge session's own miners made up the rest (null: not known, the task did not run)",
      }),
  })
  .openapi("ChainDispatch");

export const ChainTaskDetailSchema = ChainTaskSchema.extend({
  history: z.array(ChainEventSchema),
  dispatch: ChainDispatchSchema.nullable().openapi({ description: "a hybrid session's task as this router ran it on its edge session" }),
}).openapi("ChainTaskDetail");

export const UndecodableLogSchema = z
  .object({
    block_number: z.number().int(),
    log_index: z.number().int(),
    block_hash: z.string(),
    tx_hash: z.string(),
    address,
    topics: z.array(z.string()),
    data: z.string(),
    error: z.string(),
  })
  .openapi("UndecodableLog");

export type ChainStatus = z.infer<typeof ChainStatusSchema>;
export type ChainSession = z.infer<typeof ChainSessionSchema>;
/** `args` and `extra` are JSON (what Durable Object RPC carries), which the schema can only call records. */
type EventArgs = Record<string, string | boolean | string[]>;
export type ChainEvent = Omit<z.infer<typeof ChainEventSchema>, "args" | "extra"> & { args: EventArgs; extra: Record<string, EventArgs | string> | null };
export type ChainTask = z.infer<typeof ChainTaskSchema>;
export type ChainDispatch = z.infer<typeof ChainDispatchSchema>;
export type ChainTaskDetail = ChainTask & { history: ChainEvent[]; dispatch: ChainDispatch | null };
export type UndecodableLog = z.infer<typeof UndecodableLogSchema>;

/** Filters of the list routes, as the Chain index object takes them. */
export type EventFilter = {
  fromBlock?: number;
  toBlock?: number;
  event?: string;
  contract?: string;
  sessionId?: number;
  taskId?: number;
  after?: { block: number; log: number };
  limit: number;
};
export type TaskFilter = { sessionId?: number; status?: string; limit: number; after?: { sessionId: number; taskId: number } };
export type SessionFilter = { owner?: string; limit: number; after?: number };
