import { describe, expect, it } from "vitest";
import { admin, call, uniqSessionId } from "./helpers";

type ErrorBody = { error: { code: string; details?: { issues?: { field: string }[] } } };
const OWNER = "0x1234567890abcdef1234567890abcdef12345678";

// `npm run dev` provisions by PATCHing sessions that already exist (a second run); a session
// created without an owner must stay patchable.
describe("admin: a session's owner", () => {
  it("patches a session created without an owner, keeping it owner-less", async () => {
    const id = uniqSessionId();
    expect((await admin("/api/v1/admin/sessions", "POST", { id, name: "no owner" })).status).toBe(201);
    const patched = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { name: "still no owner", redundancy: 1, active: true });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id, name: "still no owner", owner: null });
    expect(await (await call(`/api/v1/sessions/${id}`)).json()).toMatchObject({ name: "still no owner", owner: null });
  });

  it("sets an owner, then clears it with owner: null", async () => {
    const id = uniqSessionId();
    expect((await admin("/api/v1/admin/sessions", "POST", { id, name: "owned", owner: OWNER })).status).toBe(201);
    const kept = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { name: "renamed" });
    expect(await kept.json()).toMatchObject({ name: "renamed", owner: OWNER });
    const cleared = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { owner: null });
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toMatchObject({ name: "renamed", owner: null });
    expect(await (await call(`/api/v1/sessions/${id}`)).json()).toMatchObject({ owner: null });
    const set = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { owner: OWNER });
    expect(await set.json()).toMatchObject({ owner: OWNER });
  });

  it("still refuses an owner that is not an address, naming the field", async () => {
    const id = uniqSessionId();
    await admin("/api/v1/admin/sessions", "POST", { id, name: "x" });
    for (const owner of ["0xnothex", "", 5, false]) {
      const res = await admin(`/api/v1/admin/sessions/${id}`, "PATCH", { owner });
      expect(res.status, JSON.stringify(owner)).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details?.issues?.map((i) => i.field)).toContain("owner");
    }
  });
});
