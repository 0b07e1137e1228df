import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fetchWorker, gatewayCustomer } from "../../helpers";

/**
 * Client input that names an entry of a table read from JSON config (a
 * gateway model alias) must find only the table's own entries: the names
 * every JavaScript object inherits are unknown models, not Object's
 * prototype taken for a misconfigured alias.
 */

const Envelope = z.object({ status: z.literal("failed"), error: z.object({ code: z.string(), message: z.string() }) });
const OpenAiError = z.object({ error: z.object({ code: z.string().nullable().optional(), message: z.string() }) });

async function gatewayCall(path: string, key: string, vars: Record<string, string>, json: unknown) {
  const { response, settled } = await fetchWorker(
    new Request(`http://gateway.test${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(json) }),
    vars,
  );
  await settled();
  return response;
}

describe("model names from Object's prototype", () => {
  const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

  it("are unknown models on the envelope route (404 model_not_found), not 503", async () => {
    const c = await gatewayCustomer("proto");
    for (const model of names) {
      const res = await gatewayCall("/v1/completions", c.issued.key, c.vars, { model, prompt: "hi", max_tokens: 8 });
      const text = await res.text();
      expect(res.status, `${model}: ${text}`).toBe(404);
      const body = Envelope.parse(JSON.parse(text));
      expect(body.error.code).toBe("model_not_found");
      expect(body.error.message).toContain(model);
    }
  });

  it("are unknown models on the OpenAI-compatible routes too", async () => {
    const c = await gatewayCustomer("proto-oai");
    for (const model of names) {
      for (const [path, json] of [
        ["/openai/v1/completions", { model, prompt: "hi", max_tokens: 8 }],
        ["/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }], max_tokens: 8 }],
      ] as const) {
        const res = await gatewayCall(path, c.issued.key, c.vars, json);
        const text = await res.text();
        expect(res.status, `${path} ${model}: ${text}`).toBe(404);
        expect(OpenAiError.parse(JSON.parse(text)).error.message).toContain(model);
      }
    }
  });
});
