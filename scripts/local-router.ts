/**
 * Starts the router on the local Workers runtime (`wrangler dev`: workerd
 * with local Durable Objects and R2) and waits until it answers.
 */
import { spawn } from "node:child_process";

export type LocalRouter = { origin: string; stop(): Promise<void>; exited: Promise<number | null> };

export async function startLocalRouter(options: {
  port: number;
  vars?: Record<string, string>;
  /** Where wrangler keeps local state; separate runs (dev, bench) keep theirs apart. */
  persistTo?: string;
  log?: (line: string) => void;
}): Promise<LocalRouter> {
  const vars = { ENVIRONMENT: "development", ...options.vars };
  const args = ["dev", "--port", String(options.port), "--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  const child = spawn("wrangler", args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const log = options.log ?? (() => {});
  const forward = (chunk: Buffer) => chunk.toString().split("\n").filter(Boolean).forEach(log);
  child.stdout.on("data", forward);
  child.stderr.on("data", forward);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  };

  const origin = `http://127.0.0.1:${options.port}`;
  const end = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}) before the router answered`);
    try {
      if ((await fetch(`${origin}/api/v1/ping`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > end) {
      await stop();
      throw new Error(`router did not answer on ${origin} within 90 s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { origin, stop, exited };
}
