import { describe, expect, it } from "vitest";
import { decimalText, money } from "../console/src/money";
import { AdminBalanceSchema } from "../domain/gateway/schemas";
import { admin, fetchWorker, uniq } from "./helpers";
import { TEST_ADMIN_KEY } from "./keys";

/** The Gateway screen's money: the ledger's integer micros, formatted exactly in the ledger's currency (LEDGER_CURRENCY). */
describe("console money", () => {
  it("reads a customer's balance with the ledger's currency, and shows its micros exactly in it", async () => {
    const id = uniq("money");
    // More micros than a float carries to the last digit once divided by a million.
    const micros = 9_007_199_254_740_991;
    expect((await admin("/v1/admin/customers", "POST", { id, name: "Money", balance_micros: micros })).status).toBe(201);
    const inEuro = await fetchWorker(new Request(`http://router.test/v1/admin/customers/${id}/balance`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }), {
      LEDGER_CURRENCY: "EUR",
    });
    expect(inEuro.response.status).toBe(200);
    const balance = AdminBalanceSchema.parse(await inEuro.response.json());
    expect(balance).toMatchObject({ customer_id: id, balance_micros: micros, spent_micros: 0, currency: "EUR" });
    expect(money(balance.balance_micros, balance.currency)).toBe("€9,007,199,254.740991");
    expect(money(balance.spent_micros, balance.currency)).toBe("€0.00");
  });

  it("writes micros digit by digit, in any currency code the ledger may name", () => {
    expect(decimalText(1_234_500)).toBe("1.2345");
    expect(decimalText(-5)).toBe("-0.000005");
    expect(money(1_234_500, "USD")).toBe("$1.2345");
    expect(money(100_000, "USD")).toBe("$0.10");
    // Not an ISO 4217 form Intl takes as a currency: the code follows the figure.
    expect(money(1_500_000, "USDC")).toBe("1.50 USDC");
  });
});
