/**
 * Starts the router on the local Workers runtime (`wrangler dev`: workerd
 * with local Durable Objects and R2) and waits until it answers.
 *
 * wrangler runs under scripts/supervise.ts, in its own process group, which
 * ends wrangler and its workerd processes when we stop it or when this
 * process ends in any way (even `kill -9`): no orphan keeps the port.
 */
import { assertPortsFree } from "./ports.ts";
import { startSupervised, waitUntilUp } from "./supervised-child.ts";

export type LocalRouter = { origin: string /** The supervisor's pid: wrangler and workerd run below it. */; pid: number; stop(): Promise<void>; exited: Promise<number | null> };

export async function startLocalRouter(options: {
  port: number;
  vars?: Record<string, string>;
  /** Where wrangler keeps local state; separate runs (dev, bench) keep theirs apart. */
  persistTo?: string;
  log?: (line: string) => void;
  /** Serve GET /__scheduled, which runs the Worker's cron handler (wrangler dev fires no crons itself). */
  testScheduled?: boolean;
  /**
   * Where the V8 inspector listens (default: 9229 if free, else any). Tests name
   * a free port: wranglers starting at once on a shared machine race for 9229.
   */
  inspectorPort?: number;
}): Promise<LocalRouter> {
  await assertPortsFree([options.port]);
  const vars = { ENVIRONMENT: "development", ...options.vars };
  const args = ["dev", "--port", String(options.port), "--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  if (options.testScheduled) args.push("--test-scheduled");
  if (options.inspectorPort) args.push("--inspector-port", String(options.inspectorPort));
  const child = startSupervised("wrangler", args, { env: { WRANGLER_SEND_METRICS: "false" }, ...(options.log ? { log: options.log } : {}) });
  const origin = `http://127.0.0.1:${options.port}`;
  await waitUntilUp(child, async () => (await fetch(`${origin}/api/v1/ping`)).ok, "wrangler dev", 90);
  return { origin, pid: child.pid, stop: child.stop, exited: child.exited };
}
