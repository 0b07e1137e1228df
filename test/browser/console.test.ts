/**
 * The operator console (/console) in a real browser, on the `npm run dev`
 * stack: signing in (and a wrong key refused), the miners, a redundancy-3
 * task with one lying miner and who disagreed on its timeline, registering
 * and removing a miner, issuing and revoking a customer key, a trial request
 * in the Gateway screen's activity. Every page load
 * is watched: no request to another origin, no policy violation, no script
 * error. Each screen is written to test-results/screenshots/console-*.png.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DevMiner, startDevMiner } from "../../tools/dev-miner/server.ts";
import { launchBrowser, screenshot } from "./browser.ts";
import { DEV_NODE_SESSION } from "../../scripts/dev-miner-node.ts";
import { api, DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN, stack } from "./stack.ts";
import { expectCleanPage, openPage, type WatchedPage } from "./watched-page.ts";

const { origin } = stack();
const MODEL = "console-model";
/** Not one of the stack's sessions (0, 1, 2, 68, 91, 93, 95). */
const SESSION_ID = 4701;
/** A session whose one miner always fails: a failed task, for the overview's errors by code. */
const FAILING_SESSION_ID = 4702;
const FAILING_MODEL = "console-failing-model";
const TOKEN = "console-miner-token";
let browser: Browser;
const miners: DevMiner[] = [];
let taskId: number;

/** An API call from outside the page, to set up or check what the console shows: its status and JSON body. */
async function adminCall(path: string, method: string, json?: unknown, key = DEV_ADMIN_TOKEN) {
  const res = await api(path, { method, key, ...(json === undefined ? {} : { json }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  browser = await launchBrowser();
  // Two honest miners and one that always answers wrong (and first), pooled by a model of their own.
  for (const [name, behaviour] of [
    ["console-honest-a", { latencyMs: 10 }],
    ["console-honest-b", { latencyMs: 20 }],
    ["console-liar", { latencyMs: 1, wrongRate: 1 }],
    ["console-failing", { latencyMs: 1, errorRate: 1 }],
  ] as const) {
    const model = name === "console-failing" ? FAILING_MODEL : MODEL;
    const miner = await startDevMiner({ name, token: TOKEN, models: [model], ...behaviour });
    miners.push(miner);
    const registered = await adminCall("/api/v1/admin/miners", "POST", { id: name, url: miner.url, credential: TOKEN, models: [model] });
    expect(registered.status).toBe(201);
  }
  const session = await adminCall("/api/v1/admin/sessions", "POST", { id: SESSION_ID, name: "console test (redundancy 3)", model: MODEL, redundancy: 3, commit_policy: "all" });
  expect(session.status).toBe(201);
  const completion = await adminCall(`/api/v1/completions/${SESSION_ID}`, "POST", { prompt: "What does the console show?", timeout: 30 }, DEV_ROUTER_TOKEN);
  expect(completion.status).toBe(200);
  taskId = completion.body["task_id"] as number;
  expect((await adminCall("/api/v1/admin/sessions", "POST", { id: FAILING_SESSION_ID, name: "console test (failing)", model: FAILING_MODEL })).status).toBe(201);
  const failed = await adminCall(`/api/v1/completions/${FAILING_SESSION_ID}`, "POST", { prompt: "This one fails.", timeout: 30 }, DEV_ROUTER_TOKEN);
  expect(failed.status).toBeGreaterThanOrEqual(500);
});

afterAll(async () => {
  await browser?.close();
  // The stack is shared by every browser test file: put its miners and sessions back as they were.
  for (const id of [SESSION_ID, FAILING_SESSION_ID]) await adminCall(`/api/v1/admin/sessions/${id}`, "DELETE");
  for (const m of miners) {
    await adminCall(`/api/v1/admin/miners/${m.name}`, "DELETE");
    await m.close();
  }
});

/** Opens the console and signs in through its form, as an operator does. */
async function signedIn(path = "/console", viewport?: { width: number; height: number }): Promise<WatchedPage> {
  const watched = await openPage(browser, origin, path, viewport ? { viewport } : {});
  await watched.page.getByLabel("Admin key").fill(DEV_ADMIN_TOKEN);
  await watched.page.getByRole("button", { name: "Sign in" }).click();
  await watched.page.getByRole("navigation", { name: "Screens" }).waitFor();
  return watched;
}

describe("the operator console", () => {
  it("refuses a wrong admin key, saying so, and keeps nothing", async () => {
    const watched = await openPage(browser, origin, "/console");
    expect(watched.response.headers()["content-security-policy"]).toContain("script-src 'self'");
    const { page } = watched;
    await page.getByLabel("Admin key").fill("not-the-admin-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Refused: that is not this deployment's admin key" }).waitFor();
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    expect(await page.getByRole("navigation", { name: "Screens" }).count()).toBe(0);
    await screenshot(page, "console-sign-in-refused");
    // The browser reports the API's 401 to the check as a failed resource; nothing else went wrong.
    expect(watched.foreignRequests()).toEqual([]);
    expect(watched.cspViolations()).toEqual([]);
    expect(watched.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    await watched.close();
  });

  it("signs in with the admin key, kept in the tab's session storage and never in a URL, and shows the overview", async () => {
    const watched = await signedIn();
    const { page } = watched;
    expect(await page.evaluate("sessionStorage.getItem('cortensor-console-admin-key')")).toBe(DEV_ADMIN_TOKEN);
    expect(await page.evaluate("localStorage.length")).toBe(0);
    expect(watched.requests.filter((u) => u.includes(DEV_ADMIN_TOKEN))).toEqual([]);
    await page.getByText("miners serving").waitFor();
    // This file's own task ran in the last hour: the charts are drawn (uPlot's canvases).
    await page.locator("figure.chart canvas").first().waitFor();
    // Tasks, latency, agreement, and the failed task's error code (also in the table below them).
    expect(await page.locator("figure.chart").count()).toBe(4);
    await page.locator(".table-wrap tbody th", { hasText: "miners_failed" }).waitFor();
    expect(watched.requests).toContain(`${origin}/api/v1/admin/metrics?window=hour`);
    await screenshot(page, "console-overview", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });

  it("lists the miners with their health, latency and signing address", async () => {
    const watched = await signedIn("/console#miners");
    const { page } = watched;
    for (const id of ["dev-miner-1", "dev-miner-6", "console-liar"]) await page.locator(`tr[data-miner="${id}"]`).waitFor();
    expect(await page.locator('tr[data-miner="dev-miner-1"]').textContent()).toMatch(/healthy/);
    expect(await page.locator('tr[data-miner="dev-miner-1"] code').textContent()).toMatch(/^0x/);
    await screenshot(page, "console-miners", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });

  it("shows the miner node that joined by itself: its source, lease and probation, as GET /api/v1/miners has them", async () => {
    const node = stack().minerNode;
    type Listed = {
      id: string;
      source: string;
      evm_address: string;
      lease_expires_at: string | null;
      probation: { on_probation: boolean; agreeing_results_needed: number };
      stats: { agreed: number };
    };
    const listedNode = async () => ((await adminCall("/api/v1/miners", "GET", undefined, DEV_ROUTER_TOKEN)).body["miners"] as Listed[]).find((m) => m.id === node.id);
    // Session 2 seats it (on probation) beside dev-miner-4 and dev-miner-5: its signed answer counts with theirs.
    const completion = await adminCall(`/api/v1/completions/${DEV_NODE_SESSION}`, "POST", { prompt: "Is the miner node serving?", timeout: 30 }, DEV_ROUTER_TOKEN);
    expect(completion.status).toBe(200);
    expect((completion.body["miners"] as { miner: string }[]).find((m) => m.miner === node.id)).toMatchObject({ agreed: true, signature: "valid", probation: true });
    // Its agreeing result is counted (the session reports within seconds): one fewer to go.
    const listed = await vi.waitFor(
      async () => {
        const m = await listedNode();
        expect(m?.stats.agreed).toBeGreaterThanOrEqual(1);
        return m as Listed;
      },
      { timeout: 20_000, interval: 250 },
    );
    expect(listed).toMatchObject({ source: "joined", evm_address: node.address.toLowerCase(), probation: { on_probation: true } });
    expect(listed.probation.agreeing_results_needed).toBeLessThan(5);
    expect(Date.parse(listed.lease_expires_at ?? "")).toBeGreaterThan(Date.now());

    const watched = await signedIn("/console#miners");
    const { page } = watched;
    const row = page.locator(`tr[data-miner="${node.id}"]`);
    await row.getByText(`on probation · ${listed.probation.agreeing_results_needed} agreeing to go`).waitFor();
    expect(await row.locator("[data-source]").getAttribute("data-source")).toBe("joined");
    expect(await row.locator("[data-source]").textContent()).toMatch(/^joined · lease until \S/);
    expect(await row.locator("td[data-probation]").getAttribute("data-probation")).toBe("on");
    expect(await row.locator("code").getAttribute("title")).toBe(listed.evm_address);
    expect(await page.locator('tr[data-miner="dev-miner-1"] [data-source]').textContent()).toBe("registered by an operator");
    expectCleanPage(watched);
    await watched.close();
  });

  it("registers a miner, puts it on probation and back, benches it and removes it, each an API call", async () => {
    const watched = await signedIn("/console#miners");
    const { page } = watched;
    const form = page.getByRole("region", { name: "Register a miner" });
    await form.getByLabel("Id (optional)").fill("console-registered");
    await form.getByLabel("URL").fill(miners[0]?.url ?? "");
    await form.getByLabel("Credential (bearer token)").fill(TOKEN);
    await form.getByLabel("Models (comma-separated)").fill("console-spare-model");
    await form.getByRole("button", { name: "Register" }).click();
    const row = page.locator('tr[data-miner="console-registered"]');
    await row.waitFor();
    expect(watched.requests).toContain(`${origin}/api/v1/admin/miners`);
    const listed = await adminCall("/api/v1/miners", "GET");
    expect((listed.body["miners"] as { id: string }[]).map((m) => m.id)).toContain("console-registered");

    await row.getByText("established").waitFor();
    await row.getByRole("button", { name: "Put on probation" }).click();
    await row.getByText("on probation · 5 agreeing to go").waitFor();
    const probation = await adminCall("/api/v1/miners", "GET");
    expect((probation.body["miners"] as { id: string; probation: unknown }[]).find((m) => m.id === "console-registered")?.probation).toEqual({
      on_probation: true,
      agreeing_results_needed: 5,
    });
    await row.getByRole("button", { name: "Establish" }).click();
    await row.getByText("established").waitFor();

    await row.getByRole("button", { name: "Bench" }).click();
    await row.getByText("benched by an operator").waitFor();
    const benched = await adminCall("/api/v1/miners", "GET");
    expect((benched.body["miners"] as { id: string; benched: boolean }[]).find((m) => m.id === "console-registered")?.benched).toBe(true);

    page.once("dialog", (d) => void d.accept());
    await row.getByRole("button", { name: "Remove" }).click();
    await row.waitFor({ state: "detached" });
    const after = await adminCall("/api/v1/miners", "GET");
    expect((after.body["miners"] as { id: string }[]).map((m) => m.id)).not.toContain("console-registered");
    expectCleanPage(watched);
    await watched.close();
  });

  it("shows a session's tasks and a redundancy-3 task's timeline, naming the miner that disagreed", async () => {
    const watched = await signedIn(`/console#sessions/${SESSION_ID}`);
    const { page } = watched;
    await page.getByText("consensus policy").waitFor();
    await screenshot(page, "console-session", { fullPage: true });
    await page.getByRole("link", { name: `Task ${taskId}` }).click();
    const liar = page.locator('[data-timeline-miner="console-liar"]');
    await liar.waitFor();
    expect(await liar.textContent()).toContain("disagreed");
    for (const honest of ["console-honest-a", "console-honest-b"]) {
      expect(await page.locator(`[data-timeline-miner="${honest}"]`).textContent()).toContain("agreed");
      expect(await page.locator(`[data-timeline-miner="${honest}"]`).textContent()).not.toContain("disagreed");
    }
    expect(await page.locator('[data-dissent="console-liar"]').textContent()).toContain("console-liar");
    // Each miner's assigned/acked/precommitted/committed marks, on the track's time axis.
    expect(await liar.locator(".mark").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("pre.output").textContent()).not.toBe("");
    await screenshot(page, "console-task-timeline", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });

  it("creates a customer, issues a key shown once, and revokes it", async () => {
    const watched = await signedIn("/console#gateway");
    const { page } = watched;
    const create = page.getByRole("region", { name: "Create a customer" });
    await create.getByLabel("Id", { exact: true }).fill("console-customer");
    await create.getByLabel("Name", { exact: true }).fill("Console test customer");
    await create.getByLabel("Opening balance (USD)").fill("5");
    await create.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "Customer console-customer" }).waitFor();

    await page.getByLabel("New key's name").fill("ci");
    await page.getByRole("button", { name: "Issue a key" }).click();
    const key = (await page.locator("[data-new-key]").textContent()) ?? "";
    expect(key.length).toBeGreaterThan(20);
    // The key works against the gateway, then is put away: shown once.
    expect((await fetch(`${origin}/v1/balance`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    await screenshot(page, "console-gateway", { fullPage: true });
    await page.getByRole("button", { name: "I have copied it" }).click();
    expect(await page.locator("[data-new-key]").count()).toBe(0);

    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Revoke key ci" }).click();
    await page.locator('tr[data-key="ci"]', { hasText: "revoked" }).waitFor();
    expect((await fetch(`${origin}/v1/balance`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    // The Gateway screen lists it now (the directory of GET /v1/admin/customers).
    await page.getByRole("link", { name: "← Gateway" }).click();
    await page.locator('tr[data-customer="console-customer"]').waitFor();
    await screenshot(page, "console-gateway-customers", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });

  it("shows a trial request in the Gateway screen's trial and x402 activity", async () => {
    type Day = { day: string; trial: { admitted: number; refused: number } };
    const today = async () => {
      const res = await adminCall("/api/v1/admin/activity?days=1", "GET");
      expect(res.status).toBe(200);
      return (res.body["days"] as Day[])[0] ?? { day: "", trial: { admitted: 0, refused: 0 } };
    };
    const before = await today();
    // A trial request from outside, as a visitor without a key sends it (the stack's trial session 0).
    const trial = await fetch(`${origin}/api/v1/trial/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "Is the trial counted?", timeout: 30 }),
    });
    expect(trial.status).toBe(200);
    // Counted after the answer, in the isolate's next batch: wait until the API has it.
    await vi.waitFor(async () => expect((await today()).trial.admitted).toBe(before.trial.admitted + 1), { timeout: 10_000, interval: 250 });
    const after = await today();

    const watched = await signedIn("/console#gateway");
    const { page } = watched;
    const section = page.getByRole("region", { name: "Trial and x402 activity by day (UTC)" });
    const row = section.locator(`tr[data-day="${after.day}"]`);
    await row.waitFor();
    expect(await row.locator('[data-field="trial-admitted"]').textContent()).toBe(String(after.trial.admitted));
    expect(await row.locator('[data-field="trial-refused"]').textContent()).toBe(String(after.trial.refused));
    await section.getByRole("img", { name: /Requests admitted per day/ }).waitFor();
    // The span is a labelled control, reached from the keyboard.
    await section.getByLabel("Days").focus();
    await page.keyboard.press("ArrowDown");
    expect(await section.getByLabel("Days").inputValue()).toBe("30");
    await row.waitFor();
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, "console-gateway-activity", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });

  it("shows the chain index and the decided tasks", async () => {
    const watched = await signedIn("/console#chain");
    const { page } = watched;
    await page.getByRole("heading", { name: "Chain index" }).waitFor();
    await page.locator('a[href^="#task/"]').first().waitFor();
    await screenshot(page, "console-chain", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });

  it("fits a phone's screen", async () => {
    const watched = await signedIn(`/console#task/${SESSION_ID}/${taskId}`, { width: 390, height: 844 });
    const { page } = watched;
    await page.locator('[data-timeline-miner="console-liar"]').waitFor();
    expect(await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")).toBeLessThanOrEqual(0);
    await screenshot(page, "console-phone-task", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });
});
