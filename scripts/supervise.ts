/**
 * Runs a command in its own process group and ends the whole group (the
 * command and everything it started: wrangler's workerd processes) when the
 * process that started us goes away. Our stdin is a pipe from that parent;
 * the kernel closes it however the parent ends (exit, crash, `kill -9`), so
 * its end is the one signal that cannot be missed. Also ends the group on
 * SIGINT, SIGTERM, SIGHUP, and when the command exits (strays it left).
 *
 *   node scripts/supervise.ts <command> [args...]
 *
 * Exits with the command's exit code (1 if a signal ended it).
 */
import { spawn } from "node:child_process";

/** How long the command gets to shut down (wrangler stops workerd on SIGINT) before SIGKILL. */
const GRACE_MS = 5000;

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: node scripts/supervise.ts <command> [args...]");
  process.exit(2);
}

// detached: the command leads a new process group, so one signal reaches all it starts.
const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"], detached: true });
const group = child.pid;

function signalGroup(signal: NodeJS.Signals) {
  if (group === undefined) return;
  try {
    process.kill(-group, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

let ending = false;
function end() {
  if (ending) return;
  ending = true;
  signalGroup("SIGINT");
  setTimeout(() => signalGroup("SIGKILL"), GRACE_MS).unref();
}

child.on("error", (err) => {
  console.error(`supervise: ${command}: ${err.message}`);
  process.exit(127);
});
child.on("exit", (code) => {
  signalGroup("SIGKILL");
  process.exit(code ?? 1);
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, end);
process.stdin.on("end", end);
process.stdin.on("close", end);
process.stdin.on("error", end);
process.stdin.resume();
