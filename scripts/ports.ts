/**
 * Whether loopback ports are free, checked before a run binds them: a router
 * left on the port by an earlier run would otherwise answer in place of the
 * new one (its readiness check, its provisioning).
 */
import { createServer } from "node:net";

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export async function busyPorts(ports: number[]): Promise<number[]> {
  const free = await Promise.all(ports.map(isFree));
  return ports.filter((_, i) => !free[i]);
}

/** Throws, naming the ports and how to find what holds them, if any is taken; `hint` says how to move. */
export async function assertPortsFree(ports: number[], hint = "stop it"): Promise<void> {
  const busy = await busyPorts(ports);
  if (busy.length === 0) return;
  const list = busy.join(", ");
  throw new Error(
    `port${busy.length > 1 ? "s" : ""} ${list} already in use on 127.0.0.1 (an earlier run still going, or another program): ` +
      `see what holds ${busy.length > 1 ? "them" : "it"} with \`ss -ltnp 'sport = :${busy[0]}'\` or \`lsof -iTCP:${busy[0]} -sTCP:LISTEN\`, ` +
      hint,
  );
}

/** A loopback port nothing listens on now (for a server that cannot take port 0 itself, such as wrangler dev). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
