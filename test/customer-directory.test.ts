import { describe, expect, it } from "vitest";
import { z } from "zod";
import { admin, call } from "./helpers";
import { CustomerEntrySchema } from "../domain/gateway/schemas";

const Listing = z.object({ customers: z.array(CustomerEntrySchema) });
const list = async () => Listing.parse(await (await admin("/v1/admin/customers", "GET")).json()).customers;

/** GET /v1/admin/customers: the directory the console's Gateway screen lists customers from. */
describe("the customer directory", () => {
  it("lists a customer once it is created, by id, and not again when the create is refused", async () => {
    const id = `dir-${crypto.randomUUID().slice(0, 8)}`;
    expect((await list()).map((c) => c.id)).not.toContain(id);
    expect((await admin("/v1/admin/customers", "POST", { id, name: "Directory test", billing: "postpaid" })).status).toBe(201);
    const entry = (await list()).find((c) => c.id === id);
    expect(entry).toMatchObject({ id, name: "Directory test", billing: "postpaid" });
    expect(Number.isNaN(Date.parse(entry?.created_at ?? ""))).toBe(false);

    expect((await admin("/v1/admin/customers", "POST", { id, name: "Someone else" })).status).toBe(409);
    expect((await list()).filter((c) => c.id === id)).toEqual([entry]);
  });

  it("is the admin's only", async () => {
    expect((await call("/v1/admin/customers")).status).toBe(401);
  });
});
