/**
 * A JSON-RPC fault proxy on loopback, a TEST DOUBLE of an unreliable
 * provider: it forwards requests to a chain and, following a plan the test
 * sets, answers some of them with what real providers answer under strain:
 * "block range too large" (to eth_getLogs over more than `maxRange`
 * blocks), HTTP 429, HTTP 500, no answer at all (a timeout), or an answer
 * that comes late (a delay: the call reaches the chain `delayMs` late).
 *
 *   POST /__faults {"maxRange": 5, "plan": ["429", "ok", "timeout", "500", "delay"], "delayMs": 1500}
 *     the plan applies to successive requests, then every request passes
 *   POST /__faults {"loseAnswerTo": "eth_sendRawTransaction"}
 *     the next such call reaches the chain, but its answer never comes back
 *     (a transaction that landed while its sender saw a timeout)
 *   POST /__faults {"dropCallTo": "eth_sendRawTransaction"}
 *     the next such call never reaches the chain, nor is it answered
 *   GET /__faults  what was injected so far, by kind
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault = "ok" | "429" | "500" | "timeout" | "delay";
type Rpc = { id?: unknown; method: string; params?: unknown[] };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function blockRange(rpc: Rpc): number | null {
  if (rpc.method !== "eth_getLogs") return null;
  const filter = rpc.params?.[0] as { fromBlock?: string; toBlock?: string } | undefined;
  if (!filter?.fromBlock?.startsWith("0x") || !filter.toBlock?.startsWith("0x")) return null;
  return Number(BigInt(filter.toBlock) - BigInt(filter.fromBlock)) + 1;
}

export async function startFaultProxy(upstream: string) {
  let maxRange = Number.POSITIVE_INFINITY;
  let plan: Fault[] = [];
  let loseAnswerTo: string | null = null;
  let dropCallTo: string | null = null;
  let delayMs = 1_500;
  const injected: Record<string, number> = { range: 0, "429": 0, "500": 0, timeout: 0, delay: 0, lost: 0, forwarded: 0 };
  const hanging = new Set<ServerResponse>();

  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    const body = await readBody(req);
    if (req.url === "/__faults") {
      if (req.method === "POST") {
        const config = JSON.parse(body) as { maxRange?: number | null; plan?: Fault[]; loseAnswerTo?: string | null; dropCallTo?: string | null; delayMs?: number };
        dropCallTo = config.dropCallTo ?? null;
        delayMs = config.delayMs ?? 1_500;
        maxRange = config.maxRange ?? Number.POSITIVE_INFINITY;
        loseAnswerTo = config.loseAnswerTo ?? null;
        plan = [...(config.plan ?? [])];
        for (const k of Object.keys(injected)) injected[k] = 0;
      }
      return send(200, { injected, remaining: plan.length });
    }
    const fault = plan.shift() ?? "ok";
    if (fault === "429") {
      injected["429"]!++;
      return res.writeHead(429, { "content-type": "text/plain", "retry-after": "1" }).end("Too Many Requests");
    }
    if (fault === "500") {
      injected["500"]!++;
      return res.writeHead(500, { "content-type": "text/plain" }).end("Internal Server Error");
    }
    if (fault === "timeout") {
      injected.timeout!++;
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (fault === "delay") {
      injected.delay!++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    const rpc = JSON.parse(body) as Rpc;
    const range = blockRange(rpc);
    if (range !== null && range > maxRange) {
      injected.range!++;
      return send(200, { jsonrpc: "2.0", id: rpc.id ?? null, error: { code: -32005, message: `query exceeds max block range ${maxRange}` } });
    }
    if (dropCallTo !== null && rpc.method === dropCallTo) {
      dropCallTo = null;
      injected.timeout!++;
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    injected.forwarded!++;
    const upstreamResponse = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    if (loseAnswerTo !== null && rpc.method === loseAnswerTo) {
      loseAnswerTo = null;
      injected.lost!++;
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    res.writeHead(upstreamResponse.status, { "content-type": "application/json" }).end(await upstreamResponse.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
