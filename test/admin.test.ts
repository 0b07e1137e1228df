import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import worker from "../workers/index";
import { TEST_ADMIN_KEY } from "./keys";
import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { addressProof, admin, call, fetchWorker, fleet, uniq, uniqSessionId } from "./helpers";
import { devMinerKey, identityKey } from "../tools/dev-miner/sign.ts";

type ErrorBody = { error: { code: string; details?: { issues?: { field: string }[] } } };

describe("admin: sessions", () => {
  it("creates, updates and deactivates a session with the SessionV2 fields", async () => {
    const id = uniqSessionId();
    const owner = "0x1234567890abcdef1234567890abcdef12345678";
    const created = await admin("/api/v1/admin/sessions", "POST", {
      id,
      name: "research",
      metadata: '{"team":"a"}',
      owner,
      model: "llama-3-8b",
      min_nodes: 1,
      max_nodes: 5,
      redundancy: 3,
      mode: "hybrid",
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id, name: "research", owner, redundancy: 3, mode: "hybrid", active: true, task_count: 0 });

    expect((await admin("/api/v1/admin/sessions", "POST", { id, name: "again" })).status).toBe(409);

    const updated = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { redundancy: 5, mode: "dedicated" });
    expect(updated.status).toBe(200);
    // What a patch leaves out stays (the update schema has no defaults to reset it with).
    expect(await updated.json()).toMatchObject({
      redundancy: 5,
      mode: "dedicated",
      name: "research",
      metadata: '{"team":"a"}',
      owner,
      model: "llama-3-8b",
      commit_policy: "quorum",
      private: false,
    });

    const listed = (await (await call("/api/v1/sessions")).json()) as { sessions: { id: number }[] };
    expect(listed.sessions.map((s) => s.id)).toContain(id);

    const removed = await admin(`/api/v1/admin/sessions/${id}`, "DELETE");
    expect(await removed.json()).toMatchObject({ active: false });
    const after = (await (await call("/api/v1/sessions")).json()) as { sessions: { id: number }[] };
    expect(after.sessions.map((s) => s.id)).not.toContain(id);
    const submit = await call(`/api/v1/completions/${id}`, { method: "POST", json: { prompt: "x" } });
    expect(submit.status).toBe(409);
    expect(((await submit.json()) as ErrorBody).error.code).toBe("session_inactive");
  });

  it("rejects inconsistent or malformed sessions, naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "x", min_nodes: 4, max_nodes: 2 }, "min_nodes"],
      [{ name: "x", redundancy: 5, max_nodes: 3 }, "redundancy"],
      [{ name: "x", mode: "weird" }, "mode"],
      [{ name: "x", owner: "0xnothex" }, "owner"],
      [{ name: "" }, "name"],
      [{ name: "x", surprise: true }, "(body)"],
    ];
    for (const [body, field] of cases) {
      const res = await admin("/api/v1/admin/sessions", "POST", { id: uniqSessionId(), ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as ErrorBody;
      expect(
        error.details!.issues!.map((i) => i.field),
        JSON.stringify(body),
      ).toContain(field);
    }
    const id = uniqSessionId();
    await admin("/api/v1/admin/sessions", "POST", { id, name: "ok", max_nodes: 3 });
    const bad = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { redundancy: 4 });
    expect(bad.status).toBe(400);
    expect(await (await call(`/api/v1/sessions/${id}`)).json()).toMatchObject({ redundancy: 1 });
    expect((await admin(`/api/v1/admin/sessions/${uniqSessionId()}`, "PATCH", { name: "ghost" })).status).toBe(404);
  });
});

describe("admin: miners", () => {
  it("registers, updates and removes a miner, never showing its credential", async () => {
    const id = uniq("m");
    const secret = `credential-${crypto.randomUUID()}`;
    const key = identityKey(devMinerKey("admin"), id);
    const address = privateKeyToAccount(key).address;
    const res = await admin("/api/v1/admin/miners", "POST", {
      id,
      url: fleet().fastA.url,
      credential: secret,
      evm_address: address,
      address_proof: await addressProof(key, fleet().fastA.url),
      models: ["m1", "m2"],
      max_concurrency: 2,
    });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({ id, models: ["m1", "m2"], max_concurrency: 2, healthy: true });

    for (const path of ["/api/v1/miners", "/api/v1/status"]) {
      expect(await (await call(path)).text()).not.toContain(secret);
    }
    const patched = await admin(`/api/v1/admin/miners/${id}`, "PATCH", { max_concurrency: 3, credential: "rotated-secret" });
    const patchedText = await patched.text();
    expect(patchedText).not.toContain("rotated-secret");
    expect(JSON.parse(patchedText)).toMatchObject({ max_concurrency: 3, models: ["m1", "m2"], evm_address: address });
    expect(await (await admin(`/api/v1/admin/miners/${id}`, "PATCH", { evm_address: null })).json()).toMatchObject({ evm_address: null, max_concurrency: 3 });
    expect(JSON.parse(patchedText)).toMatchObject({ payout_account: null });
    // A payout account must be a customer: an unknown one is refused, naming the field, and nothing changes.
    const operator = uniq("operator");
    const unknown = await admin(`/api/v1/admin/miners/${id}`, "PATCH", { payout_account: operator });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toEqual(["payout_account"]);
    expect(((await (await admin("/v1/admin/customers", "POST", { id: operator, name: operator })).json()) as { customer_id: string }).customer_id).toBe(operator);
    expect(await (await admin(`/api/v1/admin/miners/${id}`, "PATCH", { payout_account: operator })).json()).toMatchObject({ payout_account: operator, max_concurrency: 3 });
    expect(await (await admin(`/api/v1/admin/miners/${id}`, "PATCH", { name: "kept" })).json()).toMatchObject({ payout_account: operator });
    expect(await (await admin(`/api/v1/admin/miners/${id}`, "PATCH", { payout_account: null })).json()).toMatchObject({ payout_account: null });

    // At rest the credential is sealed: not the plaintext, and bound to the miner id.
    const stub = env.MINERS.get(env.MINERS.idFromName("registry"));
    const sealed = await runInDurableObject(
      stub,
      (_instance, state) => state.storage.sql.exec<{ credential_sealed: string }>("SELECT credential_sealed FROM miners WHERE id = ?", id).one().credential_sealed,
    );
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain("rotated-secret");
    expect(atob(sealed.split(".")[2]!)).not.toContain("rotated-secret");

    expect((await admin(`/api/v1/admin/miners/${id}`, "DELETE")).status).toBe(200);
    expect((await admin(`/api/v1/admin/miners/${id}`, "DELETE")).status).toBe(404);
    const { miners } = (await (await call("/api/v1/miners")).json()) as { miners: { id: string }[] };
    expect(miners.map((m) => m.id)).not.toContain(id);
  });

  it("validates miner input", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: "ftp://example.com", credential: "x" }, "url"],
      [{ url: "not a url", credential: "x" }, "url"],
      [{ url: "https://miner.example", credential: "" }, "credential"],
      [{ url: "https://miner.example", credential: "x", max_concurrency: 0 }, "max_concurrency"],
      [{ url: "https://miner.example", credential: "x", evm_address: "0x12" }, "evm_address"],
      [{ url: "https://miner.example", credential: "x", payout_account: "Not An Account!" }, "payout_account"],
      [{ url: "https://miner.example", credential: "x", payout_account: 42 }, "payout_account"],
    ];
    for (const [body, field] of cases) {
      const res = await admin("/api/v1/admin/miners", "POST", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toContain(field);
    }
    const registered = (await (await admin("/api/v1/admin/miners", "POST", { url: "https://miner.example", credential: "x", models: ["none"] })).json()) as { id: string };
    const patch = await admin(`/api/v1/admin/miners/${registered.id}`, "PATCH", { payout_account: "UPPER" });
    expect(patch.status).toBe(400);
    expect(((await patch.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toContain("payout_account");
    await admin(`/api/v1/admin/miners/${registered.id}`, "DELETE");
  });

  it("health-checks miners with their credentials", async () => {
    const good = uniq("hc-good");
    const badCredential = uniq("hc-badcred");
    await admin("/api/v1/admin/miners", "POST", { id: good, url: fleet().fastB.url, credential: fleet().fastB.token, models: ["hc"] });
    await admin("/api/v1/admin/miners", "POST", { id: badCredential, url: fleet().fastB.url, credential: "wrong", models: ["hc"] });
    const { results } = (await (await admin("/api/v1/admin/miners/health-check", "POST")).json()) as {
      results: { id: string; healthy: boolean; error: string | null }[];
    };
    expect(results.find((r) => r.id === good)).toMatchObject({ healthy: true, error: null });
    expect(results.find((r) => r.id === badCredential)).toMatchObject({ healthy: false, error: "GET /v1/models answered 401" });
    const { miners } = (await (await call("/api/v1/miners")).json()) as { miners: { id: string; healthy: boolean }[] };
    expect(miners.find((m) => m.id === badCredential)!.healthy).toBe(false);
  });
});

describe("admin: miners in production", () => {
  it("refuses miner URLs on loopback, private or link-local addresses", async () => {
    for (const url of ["http://127.0.0.1:8080", "http://localhost:9000", "http://10.1.2.3", "http://169.254.169.254/latest", "http://[::1]:80"]) {
      const { response: res } = await fetchWorker(
        new Request("http://router.test/api/v1/admin/miners", {
          method: "POST",
          headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ url, credential: "x" }),
        }),
        { ENVIRONMENT: "production" },
      );
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details!.issues![0]!.field).toBe("url");
    }
  });
});

describe("cron", () => {
  it("health-checks miners on the scheduled trigger", async () => {
    const id = uniq("cron");
    await admin("/api/v1/admin/miners", "POST", { id, url: fleet().fastC.url, credential: "wrong-credential", models: ["cron"] });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/2 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const { miners } = (await (await call("/api/v1/miners")).json()) as {
      miners: { id: string; healthy: boolean; last_error: string | null; last_health_check_at: string | null }[];
    };
    expect(miners.find((m) => m.id === id)).toMatchObject({ healthy: false, last_error: "GET /v1/models answered 401" });
    expect(miners.find((m) => m.id === id)!.last_health_check_at).not.toBeNull();
  });
});
