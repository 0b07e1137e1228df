/**
 * Checks of what keeps `npm run dev` from leaving orphans, run by hand (not
 * part of `npm test`, which runs inside workerd):
 *
 *   node --test scripts/supervise.test.ts
 *
 * A process that started a supervised command is killed with SIGKILL (it can
 * run no clean-up); the command and the process it started, which ignores
 * SIGINT, must both be gone afterwards, and the port they held free.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertPortsFree, busyPorts } from "./ports.ts";

const SUPERVISE = fileURLToPath(new URL("./supervise.ts", import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

// The supervised command: starts a grandchild that holds a port and ignores SIGINT (as a
// workerd that does not shut down would), prints both pids and the port, and stays up.
const COMMAND = `
const { spawn } = require("node:child_process");
const grandchild = spawn(process.execPath, ["-e", \`
  process.on("SIGINT", () => {});
  const s = require("node:net").createServer().listen(0, "127.0.0.1", () => console.log(JSON.stringify({ grandchild: process.pid, port: s.address().port })));
\`], { stdio: ["ignore", "inherit", "inherit"] });
console.log(JSON.stringify({ command: process.pid }));
setInterval(() => {}, 1000);
`;

// The parent: starts the supervisor as scripts/local-router.ts does, then waits to be killed.
const PARENT = `
const { spawn } = require("node:child_process");
spawn(process.execPath, [${JSON.stringify(SUPERVISE)}, process.execPath, "-e", ${JSON.stringify(COMMAND)}], { stdio: ["pipe", "inherit", "inherit"], detached: true });
setInterval(() => {}, 1000);
`;

test("a supervised command and what it started end when the parent is killed with SIGKILL", async () => {
  const parent = spawn(process.execPath, ["-e", PARENT], { stdio: ["ignore", "pipe", "inherit"] });
  const seen: { command?: number; grandchild?: number; port?: number } = {};
  parent.stdout.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) Object.assign(seen, JSON.parse(line));
  });
  assert.ok(await until(() => seen.command !== undefined && seen.port !== undefined, 10_000), "the command started");
  const { command, grandchild, port } = seen;
  assert.ok(command && grandchild && port);
  assert.deepEqual(await busyPorts([port]), [port]);

  parent.kill("SIGKILL");
  await once(parent, "exit");
  try {
    assert.ok(await until(() => !alive(command) && !alive(grandchild), 15_000), "command and grandchild ended");
    assert.deepEqual(await busyPorts([port]), []);
  } finally {
    // A failing check leaves nothing behind either: the command leads its process group.
    if (alive(command) || alive(grandchild)) process.kill(-command, "SIGKILL");
  }
});

test("a port already taken is refused with a message naming it", async () => {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  await assert.rejects(assertPortsFree([address.port], "stop it"), new RegExp(`port ${address.port} already in use`));
  server.close();
  await once(server, "close");
  await assertPortsFree([address.port]);
});
