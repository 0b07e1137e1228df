/**
 * What the router's own metering costs a task, in CPU, with the code the
 * Session object runs (domain/metering): the usage of a completion (the
 * prompt sent and the answer counted, `meteredUsage`) and the audit of every
 * miner's reported usage at redundancy 3 (`auditUsage`: each answer and the
 * prompt counted again), over prompts and answers of 1 KB, 16 KB and 128 KB
 * of mixed text (English, accents, CJK, emoji, code). Microseconds per task,
 * the median of BENCH_METERING_ROUNDS runs. BENCH_ONLY=metering runs only this.
 */
import { meteredUsage } from "../../domain/metering/count-tokens.ts";
import { auditUsage } from "../../domain/metering/usage-audit.ts";
import type { Slot } from "../../domain/protocol/run-task.ts";
import { table } from "./report.ts";

const ROUNDS = Number(process.env["BENCH_METERING_ROUNDS"] ?? 2000);
const SIZES = [1024, 16 * 1024, 128 * 1024];
const SAMPLE = "The router meters usage itself; a miner's figures are kept for audit. Naïve café, 東京タワー, 🚀. const x = f(a, b) + 42;\n";

/** Mixed text of about `bytes` UTF-8 bytes, different for each `i` (no cache can help). */
const textOf = (bytes: number, i: number) => `${i} ${SAMPLE.repeat(Math.ceil(bytes / 130))}`.slice(0, Math.ceil(bytes * 0.9));

/** Median microseconds of `fn` over ROUNDS runs, after 50 warm-up runs. */
function medianMicros(fn: (i: number) => unknown): number {
  for (let i = 0; i < 50; i++) fn(i);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    fn(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[Math.floor(times.length / 2)] ?? 0) * 1000 * 10) / 10;
}

const slots = (text: string): Slot[] =>
  [0, 1, 2].map((n) => ({
    slot: n,
    miner: { id: `m${n}`, url: "http://miner.test", credential: "c" },
    state: "precommitted",
    startedAt: 0,
    agreed: true,
    output: { text, finishReason: "stop", usage: { prompt_tokens: 10, completion_tokens: n === 2 ? 1e12 : 10 }, latencyMs: 1 },
  }));

export type MeteringCost = { size_bytes: number; usage_us: number; audit_r3_us: number; task_us: number };

export function meteringCosts(): MeteringCost[] {
  return SIZES.map((size) => {
    const prompts = Array.from({ length: 64 }, (_, i) => textOf(size, i));
    const answers = Array.from({ length: 64 }, (_, i) => textOf(size, i + 64));
    const usage_us = medianMicros((i) => meteredUsage({ prompt: prompts[i % 64]!, max_tokens: 32_768 }, answers[i % 64]!));
    const audit_r3_us = medianMicros((i) => auditUsage({ prompt: prompts[i % 64]! }, slots(answers[i % 64]!)));
    return { size_bytes: size, usage_us, audit_r3_us, task_us: Math.round((usage_us + audit_r3_us) * 10) / 10 };
  });
}

/** Prints the table and returns the figures (for the bench's JSON line). */
export function printMeteringCosts(): MeteringCost[] {
  const costs = meteringCosts();
  console.log(`\nmetering: CPU per task, median of ${ROUNDS} (Node, the same code workerd runs); prompt and answer each of the size\n`);
  console.log(
    table(
      ["prompt = answer", "usage µs", "audit r=3 µs", "per task µs"],
      costs.map((c) => [`${c.size_bytes / 1024} KB`, c.usage_us, c.audit_r3_us, c.task_us]),
    ),
  );
  return costs;
}
