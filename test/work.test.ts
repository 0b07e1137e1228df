import { beforeAll, describe, expect, inject, it } from "vitest";
import type { FleetName } from "./setup/global-setup";
import { admin, call, createSession, fetchWorker, minerInbox, minersFor } from "./helpers";
import { TEST_ROUTER_KEY } from "./keys";

type Verdict = {
  session_id: number;
  task_ids: number[];
  verdict: string;
  confidence: number;
  reasons: string[];
  advice: string;
  evidence: string[];
  agreement: { runs: number; agreeing: number; required: number };
  runs?: { miner: string; verdict: string; parse_error: string | null }[];
  pool?: { replicas: number; session_id: number };
  sources?: { title: string; url: string }[];
};
type Delegated = {
  session_id: number;
  task_id: number;
  result: string;
  consensus: { redundancy: number };
  fetched: { final_url: string; truncated: boolean } | null;
  pool?: { replicas: number; session_id: number };
};
type ErrorBody = { error: { code: string; message: string; details?: { issues?: { field: string }[] } } };

const post = (path: string, json: unknown) => call(path, { method: "POST", json });
/** The Worker under another configuration (only the Worker reads these settings). */
const postWith = async (vars: Record<string, string | undefined>, path: string, json: unknown) =>
  (
    await fetchWorker(
      new Request(`http://router.test${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(json),
      }),
      vars,
    )
  ).response;

async function sessionWith(names: FleetName[], fields: Record<string, unknown> = {}) {
  const { model } = await minersFor(names);
  return createSession({ model, redundancy: Math.min(names.length, 5), ...fields });
}

const claim = (output: string) => ({
  type: "technical_summary",
  description: "Validate whether the output describes router behavior accurately.",
  output,
});

describe("delegate", () => {
  it("runs the documented v2 request: objective and input become the miners' task", async () => {
    const sessionId = await sessionWith(["fastA"]);
    const res = await post("/api/v2/delegate", {
      session_id: sessionId,
      objective: "Summarize the technical purpose of Cortensor routers.",
      input: { kind: "text", payload: "Routers accept API requests, resolve sessions, and submit tasks to the network." },
      policy: { tier: "balanced", redundancy: 1, timeout: 300, precommit_timeout: 240 },
      model_policy: { max_tokens: 180, temperature: 0.4 },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Delegated;
    expect(body).toMatchObject({ session_id: sessionId, task_id: 0, consensus: { redundancy: 1 } });
    expect(body.result.length).toBeGreaterThan(0);
    const sent = (await minerInbox("fastA")).map((r) => r.body).find((b) => String(b["prompt"]).includes("Summarize the technical purpose"))!;
    expect(sent["prompt"]).toContain("Routers accept API requests");
    expect(sent).toMatchObject({ max_tokens: 180, temperature: 0.4 });
  });

  it("takes task_request_input as the task itself, and v1 too", async () => {
    const sessionId = await sessionWith(["fastB"]);
    const marker = `exact task input ${crypto.randomUUID()}`;
    expect((await post("/api/v1/delegate", { session_id: sessionId, task_request_input: marker })).status).toBe(200);
    expect((await minerInbox("fastB")).some((r) => r.body["prompt"] === marker)).toBe(true);
  });

  it("names the field for bad input and needs a session", async () => {
    const sessionId = await sessionWith(["fastA"]);
    const cases: [Record<string, unknown>, string][] = [
      [{ session_id: sessionId }, "objective"],
      [{ session_id: sessionId, objective: "x", task_request_input: "y" }, "task_request_input"],
      [{ session_id: sessionId, objective: "x", input: { kind: "pdf", payload: "x" } }, "input.kind"],
      [{ session_id: sessionId, objective: "x", policy: { tier: "turbo" } }, "policy.tier"],
      [{ session_id: sessionId, objective: "x", policy: { timeout: 10, precommit_timeout: 20 } }, "policy.timeout"],
      [{ session_id: sessionId, objective: "x", policy: { redundancy: 9 } }, "policy.redundancy"],
    ];
    for (const [body, field] of cases) {
      const res = await post("/api/v2/delegate", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toContain(field);
    }
    const missing = await post("/api/v2/delegate", { objective: "x" });
    expect(((await missing.json()) as ErrorBody).error.code).toBe("missing_session");
  });
});

describe("v3 session pools", () => {
  beforeAll(async () => {
    // The pools of vitest.config.ts: 1 → 801, 3 → 803, 5 → 805.
    for (const [id, names] of [
      [801, ["fastA"]],
      [803, ["fastA", "fastB", "fastC"]],
      [805, ["fastA", "fastB", "fastC", "spare", "streamer"]],
    ] as const) {
      const { model } = await minersFor([...names]);
      const res = await admin("/api/v1/admin/sessions", "POST", { id, name: `pool ${id}`, model, redundancy: names.length });
      expect([201, 409]).toContain(res.status);
    }
  });

  it("delegates through each replica tier, replicas given either way", async () => {
    for (const [body, replicas, session] of [
      [{ replicas: 1 }, 1, 801],
      [{ consensus: { replicas: 3 } }, 3, 803],
      [{ replicas: 5 }, 5, 805],
    ] as const) {
      const res = await post("/api/v3/delegate", {
        request_id: `delegate-demo-${replicas}`,
        objective: "Write a short technical summary of decentralized inference.",
        input: { kind: "text", payload: "Cortensor routes inference work across miner nodes." },
        policy: { tier: "balanced" },
        ...body,
      });
      expect(res.status, JSON.stringify(body)).toBe(200);
      const out = (await res.json()) as Delegated;
      expect(out.pool).toEqual({ replicas, session_id: session });
      expect(out.consensus.redundancy).toBe(replicas);
    }
  });

  it("validates through each replica tier and aggregates", async () => {
    for (const replicas of [1, 3, 5] as const) {
      const res = await post("/api/v3/validate", {
        request_id: `validate-demo-${replicas}`,
        claim: claim("Candidate output to validate."),
        consensus: { replicas },
        policy: { tier: "safe" },
      });
      expect(res.status).toBe(200);
      const v = (await res.json()) as Verdict;
      expect(v).toMatchObject({ verdict: "VALID", pool: { replicas }, agreement: { runs: replicas, agreeing: replicas } });
      if (replicas > 1) expect(v.runs).toHaveLength(replicas);
      else expect(v.runs).toBeUndefined();
    }
  });

  it("refuses replica counts other than 1, 3 and 5, naming the field", async () => {
    for (const [body, field] of [
      [{ replicas: 2 }, "replicas"],
      [{ consensus: { replicas: 4 } }, "consensus.replicas"],
    ] as const) {
      const res = await post("/api/v3/delegate", { objective: "x", ...body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details!.issues!.map((i) => i.field)).toContain(field);
    }
  });

  it("answers missing_v3_session_pool for a tier with no configured session", async () => {
    const res = await postWith({ V3_SESSION_POOLS: JSON.stringify({ "1": 801 }) }, "/api/v3/validate", { claim: claim("x"), replicas: 3 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.code).toBe("missing_v3_session_pool");
  });
});

describe("validate", () => {
  const validate = async (names: FleetName[], output = "Routers coordinate API requests, sessions, and task submission.", redundancy = names.length) => {
    const sessionId = await sessionWith(names);
    const res = await post("/api/v2/validate", {
      session_id: sessionId,
      claim: claim(output),
      policy: { tier: "safe", redundancy, rules: ["accuracy", "clarity", "no unsupported claims"], timeout_ms: 180000, precommit_timeout_ms: 120000 },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Verdict;
  };

  it("gives one run's verdict with redundancy 1", async () => {
    const v = await validate(["validYes"]);
    expect(v).toMatchObject({ verdict: "VALID", confidence: 0.9, agreement: { runs: 1, agreeing: 1, required: 1 } });
    expect(v.runs).toBeUndefined();
    expect((await validate(["needsSpec"])).verdict).toBe("NEEDS_SPEC");
    expect((await validate(["fastA"], "This statement is wrong.")).verdict).toBe("INVALID");
  });

  it("aggregates three runs by majority, with per-run data", async () => {
    const v = await validate(["fastA", "fastB", "validNo"]);
    expect(v.verdict).toBe("VALID");
    expect(v.agreement).toEqual({ runs: 3, agreeing: 2, required: 2 });
    expect(v.confidence).toBeCloseTo(0.6, 5);
    expect(v.runs!.map((r) => r.verdict).sort()).toEqual(["INVALID", "VALID", "VALID"]);
  });

  it("counts an unparseable answer as RETRY, never a guess", async () => {
    const single = await validate(["validBad"]);
    expect(single.verdict).toBe("RETRY");
    expect(single.reasons.join(" ")).toContain("not JSON");

    const split = await validate(["validYes", "validNo", "validBad"]);
    expect(split.verdict).toBe("RETRY");
    expect(split.runs!.find((r) => r.verdict === "RETRY")!.parse_error).toContain("not JSON");
  });

  it("aggregates five runs and tolerates disagreement within a majority", async () => {
    const v = await validate(["fastA", "fastB", "fastC", "validNo", "validBad"]);
    expect(v).toMatchObject({ verdict: "VALID", agreement: { runs: 5, agreeing: 3, required: 3 } });
  });

  it("asks miners for JSON", async () => {
    await validate(["validYes"]);
    const sent = (await minerInbox("validYes")).at(-1)!.body;
    expect(sent["response_format"]).toEqual({ type: "json_object" });
    expect(String(sent["prompt"])).toContain('"verdict"');
  });
});

describe("factcheck", () => {
  const body = (extra: Record<string, unknown> = {}) => ({
    mode: "standard",
    claim: { type: "network_roles", statement: "Cortensor supports router, miner, oracle, and validator roles." },
    policy: { tier: "safe", redundancy: 3, task_redundancy: 1, timeout_ms: 120000, precommit_timeout: 90 },
    ...extra,
  });

  it("runs the documented request, under its name and its alias", async () => {
    const sessionId = await sessionWith(["fastA", "fastB", "fastC"]);
    for (const path of ["/api/v1/factcheck", "/api/v1/fact-check"]) {
      const res = await post(path, body({ session_id: sessionId }));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ session_id: sessionId, verdict: "VALID", mode: "standard", agreement: { runs: 3 } });
    }
  });

  it("takes the session from the body, then FACTCHECK_<MODE>_SESSION_ID, then FACTCHECK_SESSION_ID", async () => {
    const [fromBody, fromMode, fromAny] = [await sessionWith(["fastA"]), await sessionWith(["fastB"]), await sessionWith(["fastC"])];
    const vars = { FACTCHECK_STANDARD_SESSION_ID: String(fromMode), FACTCHECK_SESSION_ID: String(fromAny) };
    const used = async (v: Record<string, string | undefined>, b: Record<string, unknown>) =>
      ((await (await postWith(v, "/api/v1/factcheck", body({ policy: { redundancy: 1 }, ...b }))).json()) as Verdict).session_id;
    expect(await used(vars, { session_id: fromBody })).toBe(fromBody);
    expect(await used(vars, {})).toBe(fromMode);
    expect(await used({ FACTCHECK_SESSION_ID: String(fromAny) }, {})).toBe(fromAny);
    // The realtime mode's own variable does not apply to standard.
    expect(await used({ FACTCHECK_REALTIME_SESSION_ID: String(fromMode), FACTCHECK_SESSION_ID: String(fromAny) }, {})).toBe(fromAny);
    const none = await postWith({}, "/api/v1/factcheck", body());
    expect(((await none.json()) as ErrorBody).error.code).toBe("missing_session");
  });

  it("refuses realtime mode without a search provider, and uses one when configured", async () => {
    const sessionId = await sessionWith(["validYes"]);
    const refused = await post("/api/v1/factcheck", body({ session_id: sessionId, mode: "realtime", policy: { redundancy: 1 } }));
    expect(refused.status).toBe(501);
    expect(((await refused.json()) as ErrorBody).error.code).toBe("realtime_not_configured");

    const res = await postWith(
      { SEARCH_PROVIDER_URL: `${inject("web").origin}/search` },
      "/api/v1/factcheck",
      body({ session_id: sessionId, mode: "realtime", policy: { redundancy: 1 } }),
    );
    expect(res.status).toBe(200);
    const v = (await res.json()) as Verdict;
    expect(v.sources!.map((s) => s.url)).toEqual(["https://docs.example/roles", "https://docs.example/validators"]);
    const prompt = String((await minerInbox("validYes")).at(-1)!.body["prompt"]);
    expect(prompt).toContain("Roles include router, miner and oracle.");
  });

  it("runs task_redundancy independent tasks and aggregates all their runs", async () => {
    const sessionId = await sessionWith(["fastA", "fastB", "fastC"]);
    const res = await post("/api/v1/factcheck", body({ session_id: sessionId, request_id: "fc-twice", policy: { redundancy: 1, task_redundancy: 2 } }));
    const v = (await res.json()) as Verdict;
    expect(v.task_ids).toHaveLength(2);
    expect(v.agreement.runs).toBe(2);
  });
});

describe("web fetch", () => {
  const web = () => inject("web");
  const fetchVars = (extra: Record<string, string> = {}) => ({ WEB_FETCH_ENABLED: "true", ...extra });
  const delegateUrl = async (vars: Record<string, string>, url: string, sessionId: number) =>
    postWith(vars, "/api/v2/delegate", { session_id: sessionId, objective: "Summarize the page.", input: { kind: "url", payload: url } });

  it("is off unless the router enables it", async () => {
    const sessionId = await sessionWith(["fastA"]);
    const res = await post("/api/v2/delegate", { session_id: sessionId, objective: "x", input: { kind: "url", payload: `${web().origin}/page.html` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.code).toBe("web_fetch_disabled");
  });

  it("refuses loopback, private, link-local and metadata addresses, and non-http schemes", async () => {
    const sessionId = await sessionWith(["fastA"]);
    for (const url of [
      `${web().origin}/page.html`,
      "http://localhost/",
      "http://127.0.0.1:8080/",
      "http://10.1.2.3/",
      "http://192.168.1.1/",
      "http://172.16.0.1/",
      "http://169.254.169.254/latest/meta-data/",
      "http://metadata.google.internal/",
      "http://[::1]/",
      "http://[fe80::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://2130706433/",
      "ftp://example.com/file",
      "file:///etc/passwd",
    ]) {
      const res = await delegateUrl(fetchVars(), url, sessionId);
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code, url).toMatch(/web_fetch_refused|invalid_request/);
    }
  });

  it("fetches a page served on loopback when the test allows that host, as text", async () => {
    const sessionId = await sessionWith(["fastB"]);
    const res = await delegateUrl(fetchVars({ WEB_FETCH_ALLOW_HOSTS: web().host }), `${web().origin}/redirect-ok`, sessionId);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Delegated;
    expect(body.fetched).toMatchObject({ final_url: `${web().origin}/page.html`, truncated: false });
    const prompt = String((await minerInbox("fastB")).at(-1)!.body["prompt"]);
    expect(prompt).toContain("Routers accept API requests, resolve sessions & submit tasks.");
    expect(prompt).not.toContain("window.secret");
    expect(prompt).not.toContain("color: red");
  });

  it("re-checks every redirect", async () => {
    const sessionId = await sessionWith(["fastA"]);
    for (const path of ["/redirect-metadata", "/redirect-private", "/redirect-loopback"]) {
      const res = await delegateUrl(fetchVars({ WEB_FETCH_ALLOW_HOSTS: web().host }), `${web().origin}${path}`, sessionId);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code, path).toBe("web_fetch_refused");
    }
  });

  it("caps size and time, and fetches only text", async () => {
    const sessionId = await sessionWith(["fastA"]);
    // The slow page answers after 3 s: a timeout of 1.5 s leaves a wide margin
    // on both sides (the other pages must still arrive within it on a busy machine).
    const vars = fetchVars({ WEB_FETCH_ALLOW_HOSTS: web().host, WEB_FETCH_MAX_BYTES: "10000", WEB_FETCH_TIMEOUT_MS: "1500" });
    const big = (await (await delegateUrl(vars, `${web().origin}/big`, sessionId)).json()) as Delegated;
    expect(big.fetched).toMatchObject({ truncated: true });
    const slow = await delegateUrl(vars, `${web().origin}/slow`, sessionId);
    expect(slow.status).toBe(502);
    expect(((await slow.json()) as ErrorBody).error.code).toBe("web_fetch_failed");
    const binary = await delegateUrl(vars, `${web().origin}/image.png`, sessionId);
    expect(binary.status).toBe(400);
  });
});
