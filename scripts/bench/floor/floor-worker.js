// The least a router task can cost on this runtime: the bench runs this Worker
// beside the router, on the same Miniflare, against the same miner. Each path
// does one more of the things a task must do, and nothing else:
//   GET  /ping   an inbound request answered with JSON;
//   POST /relay  the Worker calls the miner and answers its body;
//   POST /task   the Worker calls one Durable Object over RPC, which calls the
//                miner, writes one SQLite row and returns the text: the shape of
//                a redundancy-1 task without validation, consensus or history;
//   POST /task-r2  the same with the two R2 puts of the router's v3 path (the
//                prompt before the miner call, the result after): what two puts
//                cost the Worker as binding calls, R2 being served by the bench's
//                R2 service in another workerd (scripts/bench/runtimes.ts), as
//                on Cloudflare R2 is another service;
//   POST /task-wal  the task written ahead, as the router's promise that nothing
//                is dispatched twice needs (docs/storage-schema.md, "What survives
//                a crash"): a row in one storage turn, committed before the miner
//                call leaves (the output gate holds it), the output in a second
//                turn, before the answer. Two commits where /task has one.
import { DurableObject } from "cloudflare:workers";

export class FloorObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, output TEXT NOT NULL)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS written_ahead (id INTEGER PRIMARY KEY, request TEXT NOT NULL, output TEXT)");
  }

  async taskWal(minerUrl, token, body) {
    const { id } = this.ctx.storage.sql.exec("INSERT INTO written_ahead (request) VALUES (?) RETURNING id", body).one();
    const text = await callMiner(minerUrl, token, body);
    this.ctx.storage.sql.exec("UPDATE written_ahead SET output = ? WHERE id = ?", text, id);
    return text;
  }

  async task(minerUrl, token, body) {
    const text = await callMiner(minerUrl, token, body);
    this.ctx.storage.sql.exec("INSERT INTO tasks (output) VALUES (?)", text);
    return text;
  }

  async taskR2(minerUrl, token, body) {
    const id = crypto.randomUUID();
    await putText(this.env.PAYLOADS, `floor/${id}/prompt`, body);
    const text = await callMiner(minerUrl, token, body);
    this.ctx.storage.sql.exec("INSERT INTO tasks (output) VALUES (?)", text);
    await putText(this.env.PAYLOADS, `floor/${id}/result`, text);
    return text;
  }
}

// As the router writes a public payload (domain/payloads/payload-store.ts): UTF-8 text, its content type, three metadata fields.
function putText(bucket, key, text) {
  return bucket.put(key, new TextEncoder().encode(text), {
    httpMetadata: { contentType: "text/plain; charset=utf-8" },
    customMetadata: { encryption: "none", session: "0", task: "0" },
  });
}

async function callMiner(minerUrl, token, body) {
  const res = await fetch(`${minerUrl}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body });
  return res.text();
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/ping") return Response.json({ status: "ok", time: new Date().toISOString() });
    if (path === "/relay") return new Response(await callMiner(env.MINER_URL, env.MINER_TOKEN, await request.text()), { headers: { "content-type": "application/json" } });
    const method = { "/task": "task", "/task-r2": "taskR2", "/task-wal": "taskWal" }[path];
    if (method) {
      const stub = env.FLOOR.get(env.FLOOR.idFromName("floor"));
      const text = await stub[method](env.MINER_URL, env.MINER_TOKEN, await request.text());
      return new Response(text, { headers: { "content-type": "application/json" } });
    }
    return new Response("not found", { status: 404 });
  },
};
