import { exports } from "cloudflare:workers";
import { describe, expect, it, inject } from "vitest";

describe("smoke", () => {
  it("pings", async () => {
    const res = await exports.default.fetch("http://router/api/v1/ping");
    expect(res.status).toBe(200);
    expect(inject("miners")).toEqual({});
  });
});
