import type { MinerPublic } from "../../domain/schemas/miner";
import type { NeuroShardTrainingGlobal, NeuroShardTrainingReport } from "../../domain/schemas/neuroshard";

/**
 * The network's training, as the NeuroShard miners that train report it
 * (each one's `GET /api/training/global`, read by the health check): the
 * router trains nothing and invents nothing. A miner trains when its report
 * says `local.is_training`. Where reports differ, the worst one stands: the
 * lowest hash agreement, converging and verified only if every one says so.
 */
export function trainingGlobal(miners: readonly MinerPublic[]): NeuroShardTrainingGlobal {
  const nodes = miners.filter((m) => m.protocol === "neuroshard");
  const training = nodes.flatMap((m) => (m.healthy && m.training?.local?.is_training ? [{ id: m.id, report: m.training }] : []));
  if (training.length === 0) {
    return {
      global_avg_loss: null,
      global_min_loss: null,
      hash_agreement_rate: null,
      total_nodes_training: 0,
      successful_syncs: 0,
      failed_syncs: 0,
      sync_success_rate: null,
      global_steps: 0,
      global_tokens: 0,
      data_shards_covered: [],
      is_converging: false,
      training_verified: false,
      loss_trend: "unknown",
      local: null,
      diloco: null,
      reason: nodes.length === 0 ? "No NeuroShard miner is registered: nothing trains behind this router." : `None of the ${nodes.length} NeuroShard miner(s) reports training.`,
      nodes: [],
    };
  }
  const reports = training.map((t) => t.report);
  const numbers = (pick: (r: NeuroShardTrainingReport) => number | null | undefined) => reports.flatMap((r) => (typeof pick(r) === "number" ? [pick(r) as number] : []));
  const losses = numbers((r) => r.local?.current_loss ?? r.global_avg_loss);
  const mins = numbers((r) => r.global_min_loss ?? r.local?.current_loss);
  const agreement = numbers((r) => r.hash_agreement_rate);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const successful = sum(numbers((r) => r.successful_syncs));
  const failed = sum(numbers((r) => r.failed_syncs));
  const trends = new Set(reports.map((r) => r.loss_trend ?? "unknown"));
  return {
    global_avg_loss: losses.length > 0 ? sum(losses) / losses.length : null,
    global_min_loss: mins.length > 0 ? Math.min(...mins) : null,
    hash_agreement_rate: agreement.length > 0 ? Math.min(...agreement) : null,
    total_nodes_training: training.length,
    successful_syncs: successful,
    failed_syncs: failed,
    sync_success_rate: successful + failed > 0 ? successful / (successful + failed) : null,
    global_steps: Math.max(0, ...numbers((r) => r.global_steps)),
    global_tokens: Math.max(0, ...numbers((r) => r.global_tokens)),
    data_shards_covered: [...new Set(reports.flatMap((r) => r.data_shards_covered ?? []))].sort((a, b) => a - b),
    is_converging: reports.every((r) => r.is_converging === true),
    training_verified: reports.every((r) => r.training_verified === true),
    loss_trend: trends.size === 1 ? ([...trends][0] ?? "unknown") : "mixed",
    local: null,
    diloco: null,
    reason: `Aggregated from ${training.length} NeuroShard miner(s) that report training.`,
    nodes: training.map((t) => ({
      id: t.id,
      current_loss: t.report.local?.current_loss ?? null,
      hash_agreement_rate: t.report.hash_agreement_rate ?? null,
      loss_trend: t.report.loss_trend ?? null,
    })),
  };
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;

/** The seed's yes/no answer to "is the distributed training working?", from the aggregate. */
export function trainingVerdict(g: NeuroShardTrainingGlobal) {
  if (g.total_nodes_training === 0) {
    return { is_working: false, reason: g.reason, action: "Register NeuroShard miners that train (protocol: neuroshard), and run the health check to read their reports." };
  }
  if (g.hash_agreement_rate === null) {
    return { is_working: false, reason: "No training miner reports its hash agreement.", action: "Check the miners' /api/training/global reports." };
  }
  if (g.hash_agreement_rate < 1) {
    return {
      is_working: false,
      reason: `Network NOT converging! Only ${percent(g.hash_agreement_rate)} hash agreement.`,
      action: "Nodes have diverged. Check gradient sync is working.",
    };
  }
  if (g.loss_trend !== "improving" || !g.training_verified) {
    return { is_working: false, reason: `Training not verified: loss trend is ${g.loss_trend}.`, action: "Check that the miners' loss is decreasing." };
  }
  return {
    is_working: true,
    reason: "Training verified! Loss is decreasing and network is converging.",
    metrics: { loss_trend: g.loss_trend, hash_agreement: percent(g.hash_agreement_rate), global_loss: g.global_avg_loss },
  };
}
