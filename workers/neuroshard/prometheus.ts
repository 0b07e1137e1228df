import type { MinerPublic } from "../../domain/schemas/miner";
import { servesTasks } from "../../domain/schemas/miner";
import type { NeuroShardMetrics, NeuroShardStatus } from "../../domain/schemas/neuroshard";

type Sample = { labels?: Record<string, string>; value: number };
type Family = { name: string; help: string; type: "counter" | "gauge"; samples: Sample[] };

const escapeLabel = (v: string) => v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');

function render(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = s.labels
        ? `{${Object.entries(s.labels)
            .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
            .join(",")}}`
        : "";
      lines.push(`${f.name}${labels} ${s.value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const one = (value: number | null): Sample[] => (value === null ? [] : [{ value }]);

/** The node's figures as Prometheus text (exposition format 0.0.4): the same numbers as the JSON routes; unmeasured ones are left out. */
export function prometheusText(status: NeuroShardStatus, metrics: NeuroShardMetrics, miners: MinerPublic[]): string {
  const i = metrics.inference;
  return render([
    {
      name: "neuroshard_node_info",
      help: "The node's id, version and role.",
      type: "gauge",
      samples: [{ labels: { node_id: status.node_id, version: status.version, role: status.role }, value: 1 }],
    },
    { name: "neuroshard_uptime_seconds", help: "Seconds this Worker isolate has been serving.", type: "gauge", samples: [{ value: status.uptime_seconds }] },
    {
      name: "neuroshard_peers",
      help: "Miners by health.",
      type: "gauge",
      samples: [
        { labels: { state: "healthy" }, value: miners.filter(servesTasks).length },
        { labels: { state: "benched" }, value: miners.filter((m) => !servesTasks(m)).length },
      ],
    },
    {
      name: "neuroshard_miner_healthy",
      help: "1 when the miner passes its health check.",
      type: "gauge",
      samples: miners.map((m) => ({ labels: { miner: m.id, protocol: m.protocol }, value: m.healthy ? 1 : 0 })),
    },
    { name: "neuroshard_inference_requests_total", help: "Inference tasks received.", type: "counter", samples: [{ value: i.requests_total }] },
    { name: "neuroshard_inference_requests_per_minute", help: "Inference tasks received in the last minute.", type: "gauge", samples: [{ value: i.requests_per_minute }] },
    { name: "neuroshard_inference_latency_avg_ms", help: "Mean latency of ended tasks.", type: "gauge", samples: one(i.avg_latency_ms) },
    { name: "neuroshard_inference_latency_p99_ms", help: "99th percentile latency of ended tasks.", type: "gauge", samples: one(i.p99_latency_ms) },
    { name: "neuroshard_inference_tokens_generated_total", help: "Completion tokens of ended tasks.", type: "counter", samples: [{ value: i.tokens_generated }] },
    {
      name: "neuroshard_rewards_earned_total",
      help: "What the committed tasks paid their miners, in the wallet's currency.",
      type: "counter",
      samples: [{ value: metrics.rewards.earned_total }],
    },
    { name: "neuroshard_rewards_pending", help: "Rewards recorded, not yet taken by the payout accounts' Ledgers.", type: "gauge", samples: [{ value: metrics.rewards.pending }] },
  ]);
}
