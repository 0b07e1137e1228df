import { encodeBase64Url } from "hono/utils/encode";
import { describe, expect, it } from "vitest";
import { issueAssignmentToken, verifyAssignmentToken } from "../domain/auth/assignment-token";

const MASTER = "assignment token test master key";
const part = (value: unknown) => encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)).buffer).replace(/=+$/, "");

describe("assignment tokens", () => {
  it("are JWTs that carry the assignment until the task deadline", async () => {
    const deadline = Date.now() + 60_000;
    const token = await issueAssignmentToken(MASTER, { s: 12, t: 3, m: "miner-a", exp: deadline });
    expect(token.split(".")).toHaveLength(3);
    const claims = await verifyAssignmentToken(MASTER, token);
    expect(claims).toMatchObject({ s: 12, t: 3, m: "miner-a" });
    expect(claims?.exp).toBeGreaterThanOrEqual(deadline);
    expect(claims?.exp).toBeLessThan(deadline + 1000);
  });

  it("refuses expired, foreign, altered and extended tokens", async () => {
    const token = await issueAssignmentToken(MASTER, { s: 12, t: 3, m: "miner-a", exp: Date.now() + 60_000 });
    const [header, , signature] = token.split(".");
    const refused = [
      await issueAssignmentToken(MASTER, { s: 12, t: 3, m: "miner-a", exp: Date.now() - 2_000 }),
      await issueAssignmentToken("another master key", { s: 12, t: 3, m: "miner-a", exp: Date.now() + 60_000 }),
      `${header}.${part({ s: 12, t: 3, m: "miner-b", exp: Math.ceil(Date.now() / 1000) + 60 })}.${signature}`,
      `${part({ alg: "none", typ: "JWT" })}.${token.split(".")[1]}.`,
      `${token}.${signature}`,
      `${token}.`,
      `at1.${token}`,
      "",
    ];
    for (const bad of refused) expect(await verifyAssignmentToken(MASTER, bad), bad).toBeNull();
  });
});
