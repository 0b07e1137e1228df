import { describe, expect, it } from "vitest";
import { admin, call } from "../helpers";

type ErrorBody = { error: { code: string; message: string; details?: { issues?: { field: string }[] } } };

// Session ids are non-negative integers, or decimal strings of them ("12"). Coercion used to
// turn "", null, false, [], " 0 " and "0x0" into session 0 and true into session 1.
const NOT_IDS: unknown[] = [
  "",
  null,
  false,
  true,
  [],
  [0],
  {},
  " 0 ",
  "0 ",
  "0x0",
  "0x10",
  "1e3",
  "+1",
  "-1",
  "1.0",
  "0.5",
  "١",
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER + 1,
  "1234567890123456",
];

const BODIES: [string, Record<string, unknown>][] = [
  ["/api/v1/completions", { prompt: "hello" }],
  ["/api/v2/completions", { prompt: "hello" }],
  ["/api/v1/delegate", { task_request_input: "summarise this" }],
  ["/api/v2/delegate", { objective: "summarise", input: { kind: "text", payload: "this" } }],
  ["/api/v1/validate", { claim: { type: "answer", output: "4" } }],
  ["/api/v1/factcheck", { claim: { type: "fact", statement: "water is wet" } }],
];

describe("session_id in a body", () => {
  for (const [path, body] of BODIES) {
    it(`${path}: anything but a non-negative integer or its decimal string is a 400 naming session_id`, async () => {
      for (const sessionId of NOT_IDS) {
        const res = await call(path, { method: "POST", json: { ...body, session_id: sessionId } });
        const label = `${path} session_id=${JSON.stringify(sessionId)}`;
        expect(res.status, label).toBe(400);
        const { error } = (await res.json()) as ErrorBody;
        expect(
          error.details?.issues?.map((i) => i.field),
          label,
        ).toContain("session_id");
      }
    });
  }

  it("accepts an integer and a decimal string, both naming the same session", async () => {
    for (const sessionId of [987654321012, "987654321012"]) {
      const res = await call("/api/v1/completions", { method: "POST", json: { prompt: "hello", session_id: sessionId } });
      expect(res.status, JSON.stringify(sessionId)).toBe(404);
      const { error } = (await res.json()) as ErrorBody;
      expect(error.code).toBe("session_not_found");
      expect(error.message).toContain("987654321012");
    }
  });

  it("an admin-created session's id follows the same rule", async () => {
    for (const id of ["", null, true, "0x0", " 7 "]) {
      const res = await admin("/api/v1/admin/sessions", "POST", { id, name: "x" });
      expect(res.status, JSON.stringify(id)).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details?.issues?.map((i) => i.field)).toContain("id");
    }
  });
});
