/**
 * Starts the router on the local Workers runtime (`wrangler dev`: workerd
 * with local Durable Objects and R2) and waits until it answers.
 *
 * wrangler runs under scripts/supervise.ts, in its own process group, which
 * ends wrangler and its workerd processes when we stop it or when this
 * process ends in any way (even `kill -9`): no orphan keeps the port.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { assertPortsFree } from "./ports.ts";

const SUPERVISE = fileURLToPath(new URL("./supervise.ts", import.meta.url));

export type LocalRouter = { origin: string /** The supervisor's pid: wrangler and workerd run below it. */; pid: number; stop(): Promise<void>; exited: Promise<number | null> };

export async function startLocalRouter(options: {
  port: number;
  vars?: Record<string, string>;
  /** Where wrangler keeps local state; separate runs (dev, bench) keep theirs apart. */
  persistTo?: string;
  log?: (line: string) => void;
}): Promise<LocalRouter> {
  await assertPortsFree([options.port]);
  const vars = { ENVIRONMENT: "development", ...options.vars };
  const args = ["dev", "--port", String(options.port), "--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  // stdin is the supervisor's lifeline (closed when we stop it or die); detached so that a
  // signal to our process group (Ctrl-C) cannot kill it before it has stopped wrangler.
  const child = spawn(process.execPath, [SUPERVISE, "wrangler", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const log = options.log ?? (() => {});
  const forward = (chunk: Buffer) => chunk.toString().split("\n").filter(Boolean).forEach(log);
  child.stdout.on("data", forward);
  child.stderr.on("data", forward);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stop = async () => {
    // The supervisor gives wrangler 5 s to stop, then kills its process group.
    child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };

  const origin = `http://127.0.0.1:${options.port}`;
  const end = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler dev exited (${child.exitCode ?? child.signalCode}) before the router answered`);
    }
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
  return { origin, pid: child.pid ?? -1, stop, exited };
}
