import { chainStatus } from "../chain/chain-access";
import { servesTasks } from "../../domain/schemas/miner";
import type { RouterConfig } from "../../domain/config/config";
import type { Env } from "../env";
import type { MinerPublic } from "../../domain/schemas/miner";
import type { NeuroShardMetrics, NeuroShardStatus } from "../../domain/schemas/neuroshard";
import { inferenceTotals, recentProofs } from "../sessions/session-metrics";
import { toAmount } from "../../domain/wallet/amounts";
import type { NodeReader } from "./node-access";
import { registryStub } from "../../domain/objects/stubs";
import { isolateUptimeMs } from "../../domain/isolate-clock";
import { ROUTER_VERSION } from "../../domain/version";

/**
 * The router as a NeuroShard node: the network's gateway node, reporting on
 * itself and the miners it fronts, from what it holds (the registry, the
 * sessions' tasks, its storage). What it does not measure is null.
 */

/** The router takes the network's requests and holds no layers: in NeuroShard terms, a driver. */
export const GATEWAY_ROLE = "driver";
/** An OpenAI-compatible miner holds a whole model, not a shard of layers. */
export const FULL_MODEL_ROLE = "full_model";

const nothing = { epoch: null, step: null, loss: null };

export async function nodeStatus(env: Env, nodeId: string, now = Date.now()): Promise<NeuroShardStatus> {
  const miners = await registryStub(env).listMiners();
  const healthy = miners.filter(servesTasks).length;
  return {
    node_id: nodeId,
    version: ROUTER_VERSION,
    uptime_seconds: Math.floor(isolateUptimeMs(now) / 1000),
    status: healthy > 0 ? "running" : "degraded",
    role: GATEWAY_ROLE,
    layers: [],
    peer_count: healthy,
    training: { enabled: false, ...nothing },
    resources: { gpu_memory_used: null, gpu_memory_total: null, cpu_percent: null, ram_used: null },
  };
}

/**
 * The checks behind `healthy`: peers (at least one miner not benched),
 * storage (the registry's Durable Object answered, and the payload bucket
 * lists), and the chain index where a chain is configured. Every check is
 * `ok` or says what is wrong.
 */
export async function nodeHealth(env: Env): Promise<{ healthy: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  let miners: MinerPublic[] | undefined;
  try {
    miners = await registryStub(env).listMiners();
  } catch {
    checks["storage"] = "miner registry unreachable";
  }
  if (miners) {
    const up = miners.filter(servesTasks).length;
    checks["peers"] = miners.length === 0 ? "no miners registered" : up === 0 ? `every miner benched (0 of ${miners.length} healthy)` : "ok";
  }
  try {
    await env.PAYLOADS.list({ limit: 1 });
    checks["storage"] ??= "ok";
  } catch {
    checks["storage"] = "payload bucket unreachable";
  }
  const chain = await chainCheck(env);
  if (chain !== null) checks["chain_index"] = chain;
  return { healthy: Object.values(checks).every((v) => v === "ok"), checks };
}

/**
 * The chain index, where a chain is configured (null where none is): `ok`
 * until its first tick and while it runs without a failure since its last
 * success, else what is wrong.
 */
async function chainCheck(env: Env): Promise<string | null> {
  let status: Awaited<ReturnType<typeof chainStatus>>;
  try {
    status = await chainStatus(env);
  } catch {
    return "chain index unreachable";
  }
  if (status.state === "unconfigured") return null;
  if (status.state === "misconfigured") return `misconfigured: ${status.problems.join("; ")}`;
  if (status.status === "stopped") return `stopped: ${status.stop_reason ?? "a reorg deeper than the kept window"}`;
  if (status.failures > 0) return `failing: ${status.last_error ?? "the last tick failed"}`;
  return "ok";
}

export async function nodeMetrics(env: Env, now = Date.now()): Promise<NeuroShardMetrics> {
  const t = await inferenceTotals(env, now);
  return {
    timestamp: new Date(now).toISOString(),
    inference: {
      requests_total: t.requests,
      requests_per_minute: t.lastMinute,
      avg_latency_ms: t.ended > 0 ? Math.round((t.latencySumMs / t.ended) * 10) / 10 : null,
      p99_latency_ms: t.p99LatencyMs,
      tokens_generated: t.tokensGenerated,
    },
    training: { steps_total: null, steps_per_hour: null, gradients_submitted: null, gradients_accepted: null },
    network: { bytes_sent: null, bytes_received: null, active_connections: null, rpc_calls: null },
    rewards: { earned_today: toAmount(t.rewardTodayMicros), earned_total: toAmount(t.rewardMicros), pending: toAmount(t.pendingRewardMicros) },
  };
}

/**
 * A miner as a peer: where (host and port only, and to a router key only),
 * its role and layers as it reported them, how fast, since when. Never its
 * credential, path or query.
 */
export function peerOf(m: MinerPublic, reader: NodeReader = { kind: "router" }) {
  const isNode = m.protocol === "neuroshard";
  return {
    id: m.id,
    address: reader.kind === "router" ? new URL(m.url).host : null,
    role: isNode ? (m.node?.role ?? "unreported") : FULL_MODEL_ROLE,
    layers: isNode ? (m.node?.layers ?? []) : [],
    latency_ms: m.latency_ms,
    connected_since: m.created_at,
    healthy: m.healthy,
    protocol: m.protocol,
  };
}

export async function nodePeers(env: Env, reader: NodeReader) {
  const peers = (await registryStub(env).listMiners()).map((m) => peerOf(m, reader));
  return { peers, total: peers.length };
}

/** A proof's id: one decided task. Rewards name their task's proof by it (wallet transactions' `details.proof_id`). */
export const proofId = (sessionId: number, taskId: number) => `proof_${sessionId}_${taskId}`;

/** The decided tasks as proofs, newest first, with their stats: every task's for a router key, a customer's own tasks' for its key. */
export async function nodeProofs(env: Env, limit: number, reader: NodeReader) {
  const { proofs, counts } = await recentProofs(env, limit, reader.kind === "customer" ? reader.namespace : null);
  return {
    proofs: proofs.map((p) => ({
      id: proofId(p.sessionId, p.taskId),
      type: "inference" as const,
      layer: null,
      timestamp: new Date(p.decidedAt).toISOString(),
      verified: p.reached,
      reward: p.rewardMicros === null ? null : toAmount(p.rewardMicros),
      session_id: p.sessionId,
      task_id: p.taskId,
      status: p.status,
      consensus: p.consensus,
      precommit_hash: p.answerHash,
      agreed: p.agreed,
      redundancy: p.redundancy,
    })),
    stats: { total_submitted: counts.submitted, total_verified: counts.verified, total_reward: toAmount(counts.rewardMicros) },
  };
}

/**
 * The model's layer count, as the NeuroShard miners report it (`total_layers`
 * of their `GET /api/v1/layers`; the largest, should they differ); null when
 * none reports it: the layers held say nothing of those nobody holds.
 * `/layers` and `/network` both answer this figure.
 */
export function modelLayerCount(miners: readonly MinerPublic[]): number | null {
  const reported = miners.flatMap((m) => (typeof m.node?.total_layers === "number" ? [m.node.total_layers] : []));
  return reported.length > 0 ? Math.max(...reported) : null;
}

/** The layers the NeuroShard miners report holding, each with its holders and its type and memory as they report them; the router itself holds none. */
export async function nodeLayers(env: Env) {
  const all = await registryStub(env).listMiners();
  const miners = all.filter((m) => m.protocol === "neuroshard" && m.node);
  const holders = new Map<number, { ids: string[]; healthy: boolean; type: string | null; memoryMb: number | null }>();
  for (const m of miners) {
    for (const index of m.node?.layers ?? []) {
      const entry = holders.get(index) ?? { ids: [], healthy: false, type: null, memoryMb: null };
      const detail = m.node?.layer_details?.find((l) => l.index === index);
      entry.ids.push(m.id);
      entry.healthy ||= m.healthy;
      entry.type ??= detail?.type ?? null;
      entry.memoryMb ??= detail?.memory_mb ?? null;
      holders.set(index, entry);
    }
  }
  const layers = [...holders.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, h]) => ({ index, type: h.type, memory_mb: h.memoryMb, status: h.healthy ? ("active" as const) : ("unserved" as const), holders: h.ids }));
  return { layers, total_layers: modelLayerCount(all), my_layer_count: 0 };
}

/** Node counts by role (as each NeuroShard miner reports it; OpenAI-compatible miners serve whole models), capacity and training from the miners' reports. */
export async function nodeNetwork(env: Env) {
  const miners = await registryStub(env).listMiners();
  const roleOf = (m: MinerPublic) => (m.protocol === "openai" ? FULL_MODEL_ROLE : (m.node?.role ?? "unreported"));
  const count = (role: string) => miners.filter((m) => roleOf(m) === role).length;
  const reported = miners.flatMap((m) => (m.node ? [m.node] : []));
  const training = reported.flatMap((r) => (r.training?.enabled ? [r.training] : []));
  const figures = (pick: (t: (typeof training)[number]) => number | null | undefined) => training.flatMap((t) => (typeof pick(t) === "number" ? [pick(t) as number] : []));
  const losses = figures((t) => t.loss);
  const healthy = miners.filter((m) => m.healthy);
  return {
    nodes: {
      total: miners.length,
      drivers: count("driver"),
      workers: count("worker"),
      validators: count("validator"),
      full_model: count(FULL_MODEL_ROLE),
      unreported: count("unreported"),
    },
    architecture: { layers: modelLayerCount(miners), hidden_dim: null, parameters: null },
    capacity: {
      total_memory_gb: null,
      used_memory_gb: null,
      max_concurrency: healthy.reduce((n, m) => n + m.max_concurrency, 0),
      in_flight: healthy.reduce((n, m) => n + m.in_flight, 0),
    },
    training: {
      epoch: figures((t) => t.epoch).reduce<number | null>((a, b) => Math.max(a ?? b, b), null),
      global_step: figures((t) => t.step).reduce<number | null>((a, b) => Math.max(a ?? b, b), null),
      loss: losses.length > 0 ? losses.reduce((a, b) => a + b, 0) / losses.length : null,
      nodes_training: training.length,
    },
  };
}

/** The node's settings: the seed's node fields (a Worker has no port of its own, no tracker, no training) and the router's non-secret configuration. */
export function nodeConfig(config: RouterConfig, requestUrl: string) {
  const url = new URL(requestUrl);
  return {
    node_id: config.routerName,
    port: url.port ? Number(url.port) : null,
    grpc_port: null,
    tracker_url: null,
    training: { enabled: false, batch_size: null, learning_rate: null, diloco_steps: null },
    resources: { max_memory_gb: null, cpu_threads: null },
    router: {
      environment: config.environment,
      default_session_id: config.defaultSessionId ?? null,
      default_timeout_s: config.defaultTimeoutS,
      max_timeout_s: config.maxTimeoutS,
      max_body_bytes: config.maxBodyBytes,
      consensus: { similarity_threshold: config.similarityThreshold, embedding: config.embedding.source },
      trial: {
        routes: [...config.trial.routes],
        requests_per_window: config.trial.requestsPerWindow,
        window_s: config.trial.windowS,
        max_tokens: config.trial.maxTokens,
        max_timeout_s: config.trial.maxTimeoutS,
      },
      inference_model: config.neuroshard.model,
    },
  };
}
