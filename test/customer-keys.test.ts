import { describe, expect, it } from "vitest";
import { customerOfKey, keyPrefix, newCustomerKey } from "../domain/gateway/keys";
import { KeyIssueSchema } from "../domain/gateway/schemas";

describe("customer keys", () => {
  it("shows four characters of the secret in a prefix, even when the secret contains '_'", () => {
    const secret = "Ab3d_e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t_u0v1";
    const key = `csk_acme-co_${secret}`;
    expect(customerOfKey(key)).toBe("acme-co");
    expect(keyPrefix(key)).toBe("csk_acme-co_Ab3d…");
  });

  it("never reveals more than four characters of a newly issued secret", () => {
    for (let i = 0; i < 200; i++) {
      const key = newCustomerKey("acme");
      const prefix = keyPrefix(key);
      expect(prefix).toBe(`${key.slice(0, "csk_acme_".length + 4)}…`);
    }
  });
});

describe("customer keys' scopes", () => {
  it("default to completions and wallet reads (no money moves), and are kept once each in a fixed order", () => {
    expect(KeyIssueSchema.parse({}).scopes).toEqual(["completions", "wallet:read"]);
    expect(KeyIssueSchema.parse({ scopes: ["wallet:move", "completions", "wallet:move"] }).scopes).toEqual(["completions", "wallet:move"]);
    expect(KeyIssueSchema.safeParse({ scopes: [] }).success).toBe(false);
    expect(KeyIssueSchema.safeParse({ scopes: ["admin"] }).success).toBe(false);
  });
});
