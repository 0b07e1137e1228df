// The least a router task can cost on this runtime: the bench runs this Worker
// beside the router, on the same Miniflare, against the same miner. Each path
// does one more of the things a task must do, and nothing else:
//   GET  /ping   an inbound request answered with JSON;
//   POST /relay  the Worker calls the miner and answers its body;
//   POST /task   the Worker calls one Durable Object over RPC, which calls the
//                miner, writes one SQLite row and returns the text: the shape of
//                a redundancy-1 task without validation, consensus or history.
import { DurableObject } from "cloudflare:workers";

export class FloorObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, output TEXT NOT NULL)");
  }

  async task(minerUrl, token, body) {
    const text = await callMiner(minerUrl, token, body);
    this.ctx.storage.sql.exec("INSERT INTO tasks (output) VALUES (?)", text);
    return text;
  }
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
    if (path === "/task") {
      const stub = env.FLOOR.get(env.FLOOR.idFromName("floor"));
      return new Response(await stub.task(env.MINER_URL, env.MINER_TOKEN, await request.text()), { headers: { "content-type": "application/json" } });
    }
    return new Response("not found", { status: 404 });
  },
};
