import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../workers/index";
import { admin, call, fetchWorker } from "../helpers";
import { TEST_ROUTER_KEY } from "../keys";
import { actors, chains, mine, rpc } from "./chain-helpers";

type ErrorBody = { error: { code: string; message: string; details?: { issues?: { field: string }[]; problems?: string[] } } };
type Status = {
  state: string;
  problems: string[];
  status: string;
  cursor: number | null;
  head: number | null;
  lag: number | null;
  last_error: string | null;
  chain_id: number | null;
};

const chain = chains().main;

/** The Worker's cron, as Cloudflare fires it, under `vars` over the test configuration. */
async function cron(vars: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "*/2 * * * *" }), { ...env, ...vars } as typeof env, ctx);
  await waitOnExecutionContext(ctx);
}

const get = async (path: string, vars: Record<string, string> = {}) => {
  const { response } = await fetchWorker(new Request(`http://router.test${path}`, { headers: { authorization: `Bearer ${TEST_ROUTER_KEY}` } }), vars);
  return response;
};

describe("chain routes", () => {
  it("the cron ticks the configured chain's index, and the status shows its cursor, head and lag", async () => {
    const a = actors(chain);
    await a.sessionWrite(a.owner, "create", ["listed by the router", "meta", a.owner, 1n, 2n, 1n, 0n, 1n, false]);
    const id = Number(await a.sessionCount()) - 1;
    await mine(chain.url, 2);
    expect(((await (await call("/api/v1/chain/status")).json()) as Status).status).toBe("not_started");
    await cron();
    const status = (await (await call("/api/v1/chain/status")).json()) as Status;
    expect(status).toMatchObject({ state: "configured", status: "running", chain_id: chain.chainId, last_error: null });
    expect(status.cursor).toBeGreaterThanOrEqual(chain.startBlock);
    expect(status.head).toBeGreaterThanOrEqual(status.cursor ?? 0);
    expect(status.lag).toBeGreaterThanOrEqual(0);

    const one = await call(`/api/v1/chain/sessions/${id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ source: "chain", session_id: id, name: "listed by the router", mode: 1, mode_name: "hybrid", owner: a.owner.toLowerCase() });
    const listed = (await (await call("/api/v1/sessions")).json()) as { sessions: { source: string; session_id?: number; id?: number }[] };
    expect(listed.sessions.find((s) => s.source === "chain" && s.session_id === id)).toBeDefined();
    expect(listed.sessions.every((s) => s.source === "edge" || s.source === "chain")).toBe(true);
    expect(await (await call(`/api/v1/sessions/${id}?source=chain`)).json()).toMatchObject({ source: "chain", session_id: id, name: "listed by the router" });
    const byOwner = (await (await call(`/api/v1/chain/sessions?owner=${a.owner}`)).json()) as { sessions: { session_id: number }[] };
    expect(byOwner.sessions.map((s) => s.session_id)).toContain(id);
    const events = (await (await call(`/api/v1/chain/events?event=SessionCreated&session_id=${id}`)).json()) as { events: { event: string; args: Record<string, unknown> }[] };
    expect(events.events).toHaveLength(1);
    expect(events.events[0]?.args).toMatchObject({ sessionId: String(id), owner: a.owner.toLowerCase() });
    expect((await call("/api/v1/chain/sessions/999999")).status).toBe(404);
  });

  it("answers malformed addresses, block numbers and ids with a 400 naming the field", async () => {
    const cases: [string, string][] = [
      ["/api/v1/chain/sessions?owner=0x1234", "owner"],
      ["/api/v1/chain/sessions?owner=f39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "owner"],
      ["/api/v1/chain/events?from_block=-1", "from_block"],
      ["/api/v1/chain/events?from_block=0x10", "from_block"],
      ["/api/v1/chain/events?to_block=1e3", "to_block"],
      ["/api/v1/chain/events?from_block=9&to_block=3", "to_block"],
      ["/api/v1/chain/events?session_id=abc", "session_id"],
      ["/api/v1/chain/events?after=12", "after"],
      ["/api/v1/chain/sessions/abc", "sessionId"],
      ["/api/v1/chain/tasks/1/x", "taskId"],
      ["/api/v1/chain/tasks?session_id=-2", "session_id"],
      ["/api/v1/chain/tasks?limit=0", "limit"],
      ["/api/v1/sessions/1?source=moon", "source"],
    ];
    for (const [path, field] of cases) {
      const res = await call(path);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(
        body.error.details?.issues?.map((i) => i.field),
        path,
      ).toContain(field);
    }
    for (const from_block of ["12", -1, 1.5]) {
      const res = await admin("/api/v1/admin/chain/resync", "POST", { from_block });
      expect(res.status, String(from_block)).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details?.issues?.map((i) => i.field)).toContain("from_block");
    }
  });

  it("resyncs from a block for an admin only", async () => {
    await cron();
    expect((await call("/api/v1/admin/chain/resync", { method: "POST", json: {} })).status).toBe(401);
    const res = await admin("/api/v1/admin/chain/resync", "POST", { from_block: chain.startBlock });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "running", cursor: chain.startBlock - 1 });
  });

  it("refuses a resync from beyond the chain head or past what the index has read, and keeps the cursor", async () => {
    await cron();
    const before = (await (await call("/api/v1/chain/status")).json()) as Status;
    expect(before.cursor).not.toBeNull();
    const head = Number(await rpc<string>(chain.url, "eth_blockNumber"));
    for (const from_block of [head + 1, head + 1_000_000, (before.cursor ?? 0) + 2]) {
      const res = await admin("/api/v1/admin/chain/resync", "POST", { from_block });
      expect(res.status, String(from_block)).toBe(400);
      const body = (await res.json()) as ErrorBody & { error: { details?: { head?: number; cursor?: number } } };
      expect(body.error.details?.issues?.map((i) => i.field)).toContain("from_block");
      expect(body.error.message).toContain(String(from_block));
      expect(body.error.details?.head).toBeGreaterThanOrEqual(head);
      expect(body.error.details?.cursor).toBeGreaterThanOrEqual(before.cursor ?? 0);
    }
    const after = (await (await call("/api/v1/chain/status")).json()) as Status;
    expect(after.cursor).toBeGreaterThanOrEqual(before.cursor ?? 0);
    expect(after.cursor).toBeLessThanOrEqual(head);
    // The block just after the cursor is the furthest a resync may start from.
    const edge = await admin("/api/v1/admin/chain/resync", "POST", { from_block: (after.cursor ?? 0) + 1 });
    expect(edge.status).toBe(202);
    expect(await edge.json()).toMatchObject({ status: "running", cursor: after.cursor });
  });

  it("shows a misconfigured or unconfigured chain in its status and keeps serving every other route", async () => {
    for (const [vars, state, problem] of [
      [{ CHAIN_ID: "abc" }, "misconfigured", /^CHAIN_ID/],
      [{ CHAIN_SESSION_ADDRESS: "0x12" }, "misconfigured", /^CHAIN_SESSION_ADDRESS/],
      [{ CHAIN_QUEUE_ADDRESS: "" }, "misconfigured", /^CHAIN_QUEUE_ADDRESS: must be set/],
      [{ CHAIN_RPC_URL: "ftp://example" }, "misconfigured", /^CHAIN_RPC_URL/],
      [{ CHAIN_WRITEBACK: "true", CHAIN_SIGNER_KEY: "not a key" }, "misconfigured", /^CHAIN_SIGNER_KEY/],
      [{ CHAIN_ANCHOR_ADDRESS: "0x12" }, "misconfigured", /^CHAIN_ANCHOR_ADDRESS/],
      [{ CHAIN_SIGNER_KEY: "" }, "misconfigured", /^CHAIN_SIGNER_KEY: CHAIN_ANCHOR_ADDRESS is set/],
      [{ ANCHOR_BATCH_SIZE: "0" }, "misconfigured", /^ANCHOR_BATCH_SIZE/],
      [{ CHAIN_RPC_URL: "" }, "unconfigured", null],
    ] as const) {
      const status = (await (await get("/api/v1/chain/status", vars)).json()) as Status;
      expect(status.state, JSON.stringify(vars)).toBe(state);
      if (problem)
        expect(
          status.problems.some((p) => problem.test(p)),
          JSON.stringify(status.problems),
        ).toBe(true);
      expect((await get("/api/v1/ping", vars)).status).toBe(200);
      expect((await get("/api/v1/sessions", vars)).status).toBe(200);
      const sessions = await get("/api/v1/chain/sessions", vars);
      expect(sessions.status).toBe(503);
      expect(((await sessions.json()) as ErrorBody).error.code).toBe("chain_not_configured");
      await cron(vars);
    }
  });

  it("refuses a public dev-chain key as the write-back signer in production, naming CHAIN_SIGNER_KEY", async () => {
    // The test config's signer is the dev chain's account 8: fine outside production, refused in it.
    const vars = { ENVIRONMENT: "production", CHAIN_WRITEBACK: "true" };
    const status = (await (await get("/api/v1/chain/status", vars)).json()) as Status;
    expect(status.state).toBe("misconfigured");
    expect(status.problems).toEqual(["CHAIN_SIGNER_KEY: a public dev-chain key (anyone holds it), refused in production"]);
    const outside = (await (await get("/api/v1/chain/status", { CHAIN_WRITEBACK: "true" })).json()) as Status;
    expect(outside.state).toBe("configured");
  });

  it("shows a chain id the RPC provider does not serve as the index's last error, indexing nothing", async () => {
    const vars = { CHAIN_ID: "424242" };
    await cron(vars);
    const status = (await (await get("/api/v1/chain/status", vars)).json()) as Status;
    expect(status).toMatchObject({ state: "configured", chain_id: 424242, cursor: chain.startBlock - 1 });
    expect(status.last_error).toBe(`the RPC provider serves chain ${chain.chainId}, but CHAIN_ID is 424242`);
  });
});
