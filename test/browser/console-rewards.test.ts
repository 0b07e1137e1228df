/**
 * The console's Rewards screen in a real browser, on the `npm run dev`
 * stack: a dev miner's payout account set through the admin API, tasks run
 * against the stack, and the screen showing that miner's rewards as the
 * API computes them, a miner without a payout account earning nothing, and
 * the ledger's conservation check, run from the page, holding. Screenshots:
 * test-results/screenshots/console-rewards*.png.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevMiner, startDevMiner } from "../../tools/dev-miner/server.ts";
import { launchBrowser, screenshot } from "./browser.ts";
import { api, DEV_ADMIN_TOKEN, DEV_ROUTER_TOKEN, stack } from "./stack.ts";
import { expectCleanPage, openPage, type WatchedPage } from "./watched-page.ts";

const { origin } = stack();
const MODEL = "console-rewards-model";
/** Not one of the stack's sessions (0, 1, 68, 91, 93, 95) nor console.test.ts's. */
const SESSION_ID = 4711;
const TOKEN = "console-rewards-token";
const PAID = "console-rewards-paid";
const UNPAID = "console-rewards-unpaid";
/** A payout account of this run's own (the stack's state is fresh, but a rerun against it must not collide). */
const ACCOUNT = `miner-payouts-${Date.now().toString(36)}`;
const TASKS = 3;
let browser: Browser;
const miners: DevMiner[] = [];

type Tally = { count: number; amount_micros: number };
type Report = { currency: string; miners: { miner_id: string; payout_account: string | null; stake_multiplier: number; rewards: Tally; slashes: Tally }[] };

async function adminCall(path: string, method: string, json?: unknown, key = DEV_ADMIN_TOKEN) {
  const res = await api(path, { method, key, ...(json === undefined ? {} : { json }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The admin API's rewards report, read until `ready` holds (the sessions send rewards by their alarm, within 2 s of a task). */
async function reportWhen(ready: (r: Report) => boolean): Promise<Report> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const r = (await adminCall("/api/v1/admin/rewards", "GET")).body as unknown as Report;
    if (ready(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the rewards never reached the payout account");
}

beforeAll(async () => {
  browser = await launchBrowser();
  for (const [name, latencyMs] of [
    [PAID, 5],
    [UNPAID, 15],
  ] as const) {
    const miner = await startDevMiner({ name, token: TOKEN, models: [MODEL], latencyMs });
    miners.push(miner);
    expect((await adminCall("/api/v1/admin/miners", "POST", { id: name, url: miner.url, credential: TOKEN, models: [MODEL] })).status).toBe(201);
  }
  expect((await adminCall("/v1/admin/customers", "POST", { id: ACCOUNT, name: "Miner payouts", balance_micros: 7_000_000 })).status).toBe(201);
  // The account's operator stakes 6.0 of it for 30 days with the account's own key: the default tiers' 1.5 on the 5.0 above the
  // 1.0 minimum, half of the 10.0 that earn the whole tier: selection's multiplier 1.25 (domain/wallet/stake-weight.ts).
  const key = (await adminCall(`/v1/admin/customers/${ACCOUNT}/keys`, "POST", { name: "operator", scopes: ["wallet:read", "wallet:move"] })).body["key"] as string;
  expect((await adminCall("/neuroshard/api/v1/wallet/stake", "POST", { amount: 6, duration_days: 30 }, key)).status).toBe(200);
  const patched = await adminCall(`/api/v1/admin/miners/${PAID}`, "PATCH", { payout_account: ACCOUNT });
  expect(patched.status).toBe(200);
  expect(patched.body["payout_account"]).toBe(ACCOUNT);
  expect(
    (await adminCall("/api/v1/admin/sessions", "POST", { id: SESSION_ID, name: "console rewards (redundancy 2)", model: MODEL, redundancy: 2, commit_policy: "all" })).status,
  ).toBe(201);
  for (let i = 0; i < TASKS; i++) {
    const completion = await adminCall(`/api/v1/completions/${SESSION_ID}`, "POST", { prompt: `Reward the miners, task ${i}.`, timeout: 30 }, DEV_ROUTER_TOKEN);
    expect(completion.status).toBe(200);
  }
});

afterAll(async () => {
  await browser?.close();
  // The stack is shared by every browser test file: its miners and sessions as they were (the payout account stays, as money must).
  await adminCall(`/api/v1/admin/sessions/${SESSION_ID}`, "DELETE");
  for (const m of miners) {
    await adminCall(`/api/v1/admin/miners/${m.name}`, "DELETE");
    await m.close();
  }
});

async function signedIn(path: string, viewport?: { width: number; height: number }): Promise<WatchedPage> {
  const watched = await openPage(browser, origin, path, viewport ? { viewport } : {});
  await watched.page.getByLabel("Admin key").fill(DEV_ADMIN_TOKEN);
  await watched.page.getByRole("button", { name: "Sign in" }).click();
  await watched.page.getByRole("navigation", { name: "Screens" }).waitFor();
  return watched;
}

/** Integer micros as the screen shows them: a decimal of the currency, trailing zeros dropped (1234500 → "1.2345 USD"). */
function shown(micros: number, currency: string): string {
  const fraction = String(micros % 1e6)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return `${Math.floor(micros / 1e6)}${fraction ? `.${fraction}` : ""} ${currency}`;
}

describe("the console's Rewards screen", () => {
  it("shows the rewards a miner earned into its payout account, and the ledger's conservation check holding", async () => {
    const report = await reportWhen((r) => {
      const m = r.miners.find((m) => m.miner_id === PAID);
      return m?.rewards.count === TASKS && m.stake_multiplier === 1.25;
    });
    const paid = report.miners.find((m) => m.miner_id === PAID);
    expect(paid?.payout_account).toBe(ACCOUNT);
    expect(paid?.rewards.amount_micros).toBeGreaterThan(0);
    expect(report.miners.find((m) => m.miner_id === UNPAID)).toMatchObject({ payout_account: null, rewards: { count: 0, amount_micros: 0 } });

    const watched = await signedIn("/console");
    const { page } = watched;
    await page.getByRole("link", { name: "Rewards" }).click();
    await page.getByRole("heading", { name: "Miner rewards, stakes and slashing" }).waitFor();
    const row = page.locator(`tr[data-reward-miner="${PAID}"]`);
    await row.waitFor();
    const text = (await row.textContent()) ?? "";
    expect(text).toContain(ACCOUNT);
    expect(text).toContain(`${TASKS} for ${shown(paid?.rewards.amount_micros ?? 0, report.currency)}`);
    expect(text).toContain("×1.25");
    const unpaid = (await page.locator(`tr[data-reward-miner="${UNPAID}"]`).textContent()) ?? "";
    expect(unpaid).toContain("none: earns nothing");
    expect(unpaid).toContain("no rewards yet");
    // The payout account links to its customer on the Gateway screen.
    expect(await row.getByRole("link", { name: ACCOUNT }).getAttribute("href")).toBe(`#gateway/${ACCOUNT}`);
    // The settings in force: the stack's defaults.
    await page.getByText("share of a billed task").waitFor();
    expect(await page.getByRole("region", { name: "Settings in force" }).textContent()).toContain("20 %");

    await page.getByRole("button", { name: "Run the conservation check" }).click();
    const result = page.locator('[data-conservation="holds"]');
    await result.waitFor();
    expect(await result.textContent()).toContain("holds");
    expect(watched.requests).toContain(`${origin}/api/v1/admin/ledger/conservation`);
    expect(watched.requests).toContain(`${origin}/api/v1/admin/rewards`);
    await screenshot(page, "console-rewards", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });

  it("fits a phone's screen", async () => {
    const watched = await signedIn("/console#rewards", { width: 390, height: 844 });
    const { page } = watched;
    await page.locator(`tr[data-reward-miner="${PAID}"]`).waitFor();
    expect(await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")).toBeLessThanOrEqual(0);
    await screenshot(page, "console-rewards-phone", { fullPage: true });
    expectCleanPage(watched);
    await watched.close();
  });
});
