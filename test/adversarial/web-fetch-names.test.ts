import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import worker from "../../workers/index";
import { fetchPage } from "../../workers/web/fetch-page";
import { ApiError } from "../../domain/errors";
import { createSession, minersFor } from "../helpers";
import { TEST_ROUTER_KEY } from "../keys";

type ErrorBody = { error: { code: string; message: string } };

async function delegateUrl(vars: Record<string, string>, url: string, sessionId: number) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request("http://router.test/api/v2/delegate", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ROUTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ session_id: sessionId, objective: "Summarize the page.", input: { kind: "url", payload: url } }),
    }),
    { ...env, WEB_FETCH_ENABLED: "true", ...vars },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("web fetch of host names outside production", () => {
  // Names the machine may resolve to loopback (hosts file: `vm` and `runsc` on this sandbox's,
  // a typical machine name) and one nothing resolves. The test web server listens on 127.0.0.1.
  const NAMES = ["vm", "runsc", "localhost.example", "router-test-host"];

  it("refuses a host name whose address nobody checked, whatever it resolves to", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const port = new URL(inject("web").origin).port;
    for (const name of NAMES) {
      const res = await delegateUrl({}, `http://${name}:${port}/page.html`, sessionId);
      const body = (await res.json()) as ErrorBody;
      expect(res.status, `${name}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.error.code, name).toBe("web_fetch_refused");
      expect(body.error.message, name).toContain(name);
    }
  });

  it("still fetches a host the configuration allows by name", async () => {
    const { model } = await minersFor(["fastA"]);
    const sessionId = await createSession({ model });
    const web = new URL(inject("web").origin);
    // An IP literal allowed by host:port (the existing suites' way) keeps working.
    const res = await delegateUrl({ WEB_FETCH_ALLOW_HOSTS: web.host }, `${web.origin}/page.html`, sessionId);
    expect(res.status).toBe(200);
  });
});

describe("fetchPage: every host name is resolved and checked before it is fetched", () => {
  const PAGE = new Response("<p>hello</p>", { headers: { "content-type": "text/html" } });
  /** A resolver (DNS-over-HTTPS JSON) and a web, in one fetcher; records what was fetched. */
  function fakeNet(answers: Record<string, { type: number; data: string }[]>) {
    const fetched: string[] = [];
    const fetcher: typeof fetch = async (input) => {
      const url = new URL(input instanceof Request ? input.url : input.toString());
      if (url.host === "doh.test") {
        const name = url.searchParams.get("name") ?? "";
        const type = url.searchParams.get("type") === "AAAA" ? 28 : 1;
        const Answer = (answers[name] ?? []).filter((a) => a.type === type || a.type === 5);
        return Response.json({ Status: 0, ...(Answer.length ? { Answer } : {}) });
      }
      fetched.push(url.toString());
      return PAGE.clone();
    };
    return { fetcher, fetched };
  }
  const options = (fetcher: typeof fetch, dohUrl?: string) => ({ maxBytes: 10_000, timeoutMs: 5_000, allowHosts: [], dohUrl, fetcher });
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    return err instanceof ApiError ? { status: err.status, code: err.code, message: err.message } : null;
  };

  it("refuses a name the resolver maps to loopback or a private address, through a CNAME too", async () => {
    const net = fakeNet({
      "rebind.example": [{ type: 1, data: "127.0.0.1" }],
      "six.example": [{ type: 28, data: "::1" }],
      "alias.example": [
        { type: 5, data: "inner.example." },
        { type: 1, data: "10.0.0.7" },
      ],
    });
    for (const host of ["rebind.example", "six.example", "alias.example"]) {
      expect(await refusal(fetchPage(`http://${host}/`, options(net.fetcher, "https://doh.test/dns-query"))), host).toMatchObject({ status: 400, code: "web_fetch_refused" });
    }
    expect(net.fetched).toEqual([]);
  });

  it("refuses a name with no address the resolver knows (the runtime might still resolve it locally)", async () => {
    const net = fakeNet({});
    expect(await refusal(fetchPage("http://only-in-hosts-file.example/", options(net.fetcher, "https://doh.test/dns-query")))).toMatchObject({
      status: 400,
      code: "web_fetch_refused",
    });
    expect(net.fetched).toEqual([]);
  });

  it("refuses every name when no resolver is configured, and fetches a public IP literal", async () => {
    const net = fakeNet({});
    const refused = await refusal(fetchPage("http://localhost.example/", options(net.fetcher)));
    expect(refused).toMatchObject({ status: 400, code: "web_fetch_refused" });
    expect(refused?.message).toContain("localhost.example");
    expect(net.fetched).toEqual([]);
    expect((await fetchPage("http://93.184.216.34/", options(net.fetcher))).text).toBe("hello");
  });

  it("fetches a name that resolves only to public addresses", async () => {
    const net = fakeNet({
      "public.example": [
        { type: 1, data: "93.184.216.34" },
        { type: 28, data: "2606:2800:220:1::1" },
      ],
    });
    expect((await fetchPage("http://public.example/", options(net.fetcher, "https://doh.test/dns-query"))).text).toBe("hello");
    expect(net.fetched).toEqual(["http://public.example/"]);
  });
});
