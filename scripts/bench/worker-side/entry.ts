/**
 * The entry `npm run bench:worker-side` builds (with wrangler, against a tree's
 * own source): the router's real app, but its Session object and registry
 * replaced by objects that answer at once with a canned completion. One
 * request to it runs `n` completions (`POST /api/v1/completions/1`) through
 * `app.fetch` in a loop, so the Worker's side of a task (routing, middleware,
 * validation, the session client's preparation, the Durable Object call, the
 * answer) is all the CPU it spends, without HTTP, SQLite or a miner.
 * `mode=rpc` makes the object call alone, `mode=request` builds and reads the
 * requests alone (the loop's own cost).
 */
import { DurableObject } from "cloudflare:workers";
import { createApp } from "../../../workers/app";
import { DEV_ROUTER_TOKEN } from "../../../domain/config/dev-credentials";

const completion = {
  id: "cmpl-1-2",
  object: "text_completion",
  created: 1,
  model: "bench",
  choices: [{ index: 0, text: "a miner's answer, as short as the bench miner's", finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 },
  session_id: 1,
  task_id: 2,
  request_id: null,
  consensus: { status: "single", redundancy: 1, quorum: 1, agreed: 1, reached: true, threshold: 0.85, embedding: "lexical", dissent: [] },
  miners: [{ miner: "m1", slot: 0, status: "committed", latency_ms: 3, precommit_hash: "b".repeat(64), agreed: true, similarity: 1, fault: null, signature: null }],
  receipt_url: "/api/v1/tasks/1/2/receipt",
};

export class SessionObject extends DurableObject {
  routing() {
    return { version: "v1", shards: 1, layout: { base: null, history: [1] } };
  }
  submit(_input: unknown) {
    return { ok: true, completion, replayed: false };
  }
}

export class MinerRegistry extends DurableObject {
  runTimeSettings() {
    return { version: 0, vars: {} };
  }
}

/** The other objects wrangler.toml binds: a completion never reaches them here. */
export class LedgerObject extends DurableObject {}
export class QuotaObject extends DurableObject {}
export class A2ATaskStoreObject extends DurableObject {}
export class ChainIndexObject extends DurableObject {}
export class ChainAccountObject extends DurableObject {}

const app = createApp();

function completionRequest(i: number): Request {
  const body = JSON.stringify({ prompt: `Profile prompt ${i % 50}`, max_tokens: 32 });
  // As a client's request arrives over HTTP: with its Content-Length.
  const headers = { authorization: `Bearer ${DEV_ROUTER_TOKEN}`, "content-type": "application/json", "content-length": String(body.length) };
  return new Request("http://router.local/api/v1/completions/1", { method: "POST", headers, body });
}

export default {
  async fetch(request: Request, env: { SESSIONS: DurableObjectNamespace<SessionObject> }, ctx: ExecutionContext) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? 100);
    const mode = url.searchParams.get("mode") ?? "app";
    if (mode === "show") return app.fetch(completionRequest(0), env, ctx);
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const req = completionRequest(i);
      if (mode === "app") {
        const res = await app.fetch(req, env, ctx);
        await res.text();
        if (res.status === 200) ok++;
      } else if (mode === "rpc") {
        await req.text();
        const stub = env.SESSIONS.get(env.SESSIONS.idFromName("session:1"));
        if ((await stub.submit({ sessionId: 1 })).ok) ok++;
      } else {
        await req.text();
        ok++;
      }
    }
    return new Response(String(ok));
  },
};
