import { describe, expect, it } from "vitest";
import { customerOfKey, keyPrefix, newCustomerKey } from "../workers/gateway/keys";

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
