import { describe, expect, it } from "vitest";
import { call } from "../helpers";

/**
 * Every route that needs a credential checks it before it looks at the input: a caller with
 * no key, or a wrong one, gets 401 and learns nothing of the schema (no `issues`, no field).
 */
type Case = { family: string; method: string; path: string; body?: string };

const BAD_JSON = '{"prompt": 5, "session_id": "0x0", "claim": 7, "surprise": true}';
const NOT_JSON = "{not json";

const CASES: Case[] = [
  { family: "router completions", method: "POST", path: "/api/v1/completions", body: BAD_JSON },
  { family: "router completions", method: "POST", path: "/api/v1/completions/0", body: NOT_JSON },
  { family: "router completions", method: "POST", path: "/api/v2/completions/abc", body: BAD_JSON },
  { family: "router completions", method: "POST", path: "/api/v3/completions", body: BAD_JSON },
  { family: "work", method: "POST", path: "/api/v1/delegate", body: BAD_JSON },
  { family: "work", method: "POST", path: "/api/v3/validate", body: BAD_JSON },
  { family: "work", method: "POST", path: "/api/v1/factcheck", body: NOT_JSON },
  { family: "sessions", method: "GET", path: "/api/v1/tasks/0?limit=abc&before=-1" },
  { family: "sessions", method: "GET", path: "/api/v1/tasks/x/y" },
  { family: "admin", method: "POST", path: "/api/v1/admin/sessions", body: BAD_JSON },
  { family: "admin", method: "PATCH", path: "/api/v1/admin/sessions/0x0", body: BAD_JSON },
  { family: "admin", method: "POST", path: "/api/v1/admin/miners", body: BAD_JSON },
  { family: "admin", method: "GET", path: "/api/v1/admin/session-pools?x=1" },
  { family: "gateway admin", method: "POST", path: "/v1/admin/customers", body: BAD_JSON },
  { family: "off-chain", method: "GET", path: "/api/v3/offchain/payload" },
  { family: "off-chain", method: "POST", path: "/api/v3/offchain/result", body: BAD_JSON },
  { family: "off-chain", method: "POST", path: "/api/v3/offchain/result", body: NOT_JSON },
  { family: "gateway envelope", method: "POST", path: "/v1/completions", body: BAD_JSON },
  { family: "gateway envelope", method: "POST", path: "/v1/completions", body: NOT_JSON },
  { family: "gateway envelope", method: "GET", path: "/v1/usage?limit=abc" },
  { family: "openai", method: "POST", path: "/openai/v1/chat/completions", body: BAD_JSON },
  { family: "openai", method: "POST", path: "/openai/v1/completions", body: BAD_JSON },
  { family: "openai", method: "POST", path: "/v1/chat/completions", body: NOT_JSON },
  { family: "a2a", method: "POST", path: "/api/v1/a2a", body: BAD_JSON },
  { family: "mcp", method: "POST", path: "/mcp", body: BAD_JSON },
];

// No key; a key of the wrong kind; a well-formed key nobody issued.
const KEYS: (string | null)[] = [null, "not-a-key", "csk_nobody_AAAAAAAAAAAAAAAAAAAAAAAA"];

describe("authentication comes before input validation", () => {
  for (const { family, method, path, body } of CASES) {
    it(`${family}: ${method} ${path}`, async () => {
      for (const key of KEYS) {
        const res = await call(path, { method, key, ...(body !== undefined ? { body, headers: { "content-type": "application/json" } } : {}) });
        const text = await res.text();
        const label = `${method} ${path} key=${key} → ${res.status} ${text}`;
        expect(res.status, label).toBe(401);
        expect(text, label).not.toContain("issues");
        expect(text, label).not.toMatch(/invalid_request|session_id|prompt|surprise/);
      }
    });
  }
});
