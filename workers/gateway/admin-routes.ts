import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { loadConfig } from "../../domain/config/config";
import { ApiError } from "../../domain/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { UsagePageSchema, UsageQuerySchema, usagePage } from "./usage-page";
import {
  AdminBalanceSchema,
  BalanceSchema,
  CustomerCreateSchema,
  CustomerEntrySchema,
  CustomerIdSchema,
  KeyIssueSchema,
  KeyPublicSchema,
  KeyRotateSchema,
} from "../../domain/gateway/schemas";
import { ledgerStub, registryStub } from "../../domain/objects/stubs";
import { forgetCustomer } from "./key-cache";

const admin = { security: bearerSecurity, middleware: [requireAdminKey()], tags: ["gateway admin"] };
const CustomerParam = z.object({ customerId: CustomerIdSchema.openapi({ param: { name: "customerId", in: "path" } }) });
const KeyParam = CustomerParam.extend({
  keyId: z
    .string()
    .regex(/^key_[0-9a-f]{16}$/, "not a key id")
    .openapi({ param: { name: "keyId", in: "path" } }),
});
const IssuedSchema = KeyPublicSchema.extend({ key: z.string().openapi({ description: "the key itself: shown this once, stored only as a hash" }) }).openapi("IssuedKey");

const customerNotFound = (id: string) => new ApiError(404, "customer_not_found", `customer ${id} does not exist`);
const keyNotFound = (id: string) => new ApiError(404, "key_not_found", `key ${id} does not exist or is revoked`);

export const gatewayAdminRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/customers",
      summary: "Creates a gateway customer (prepaid balance or postpaid)",
      ...admin,
      request: { body: { content: { "application/json": { schema: CustomerCreateSchema } }, required: true } },
      responses: { 201: json(BalanceSchema, "Created"), 400: errorResponses[400], 401: errorResponses[401], 409: errorResponses[400] },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const created = await ledgerStub(c.env, input.id).createCustomer(input);
      if (!created) throw new ApiError(409, "customer_exists", `customer ${input.id} already exists`);
      return c.json(created, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/customers",
      summary: "Lists the gateway customers, by id (each customer's Ledger lists itself in the directory when it is created)",
      ...admin,
      responses: { 200: json(z.object({ customers: z.array(CustomerEntrySchema) }), "Customers"), 401: errorResponses[401] },
    }),
    async (c) => c.json({ customers: await registryStub(c.env).listCustomers() }, 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/customers/{customerId}/credit",
      summary: "Adds to a customer's prepaid balance: a payment issued by the admin source (source:admin); refused past 2^53 - 1 micros",
      ...admin,
      request: { params: CustomerParam, body: { content: { "application/json": { schema: z.object({ amount_micros: z.number().int().min(1) }).strict() } }, required: true } },
      responses: { 200: json(BalanceSchema, "New balance"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { customerId } = c.req.valid("param");
      const balance = await ledgerStub(c.env, customerId).credit(c.req.valid("json").amount_micros);
      if (!balance) throw customerNotFound(customerId);
      if ("ok" in balance) throw ApiError.from(balance);
      forgetCustomer(customerId);
      return c.json(balance, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/customers/{customerId}/keys",
      summary: "Issues an API key: allowed model aliases, request and token rate limits, optional spend limit, scopes (default: completions and wallet reads, no wallet moves)",
      ...admin,
      request: { params: CustomerParam, body: { content: { "application/json": { schema: KeyIssueSchema } }, required: true } },
      responses: { 201: json(IssuedSchema, "The key, shown once"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { customerId } = c.req.valid("param");
      const issued = await ledgerStub(c.env, customerId).issueKey(c.req.valid("json"));
      if (!issued) throw customerNotFound(customerId);
      return c.json({ ...issued.record, key: issued.key }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/customers/{customerId}/keys",
      summary: "Lists a customer's keys (prefixes only)",
      ...admin,
      request: { params: CustomerParam },
      responses: { 200: json(z.object({ keys: z.array(KeyPublicSchema) }), "Keys"), 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { customerId } = c.req.valid("param");
      const keys = await ledgerStub(c.env, customerId).listKeys();
      if (!keys) throw customerNotFound(customerId);
      return c.json({ keys }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/customers/{customerId}/keys/{keyId}/rotate",
      summary: "Gives a key a new secret, and new scopes if the body names them; the old secret stops working at once",
      ...admin,
      request: { params: KeyParam, body: { content: { "application/json": { schema: KeyRotateSchema } }, required: false } },
      responses: { 200: json(IssuedSchema, "The new key, shown once"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { customerId, keyId } = c.req.valid("param");
      const rotated = await ledgerStub(c.env, customerId).rotateKey(keyId, c.req.valid("json"));
      if (!rotated) throw keyNotFound(keyId);
      forgetCustomer(customerId);
      return c.json({ ...rotated.record, key: rotated.key }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/admin/customers/{customerId}/keys/{keyId}",
      summary: "Revokes a key; the next request with it is refused",
      ...admin,
      request: { params: KeyParam },
      responses: { 200: json(KeyPublicSchema, "Revoked"), 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { customerId, keyId } = c.req.valid("param");
      const revoked = await ledgerStub(c.env, customerId).revokeKey(keyId);
      if (!revoked) throw keyNotFound(keyId);
      // This isolate sees it at once; others within KEY_CACHE_TTL_MS (README "Keys").
      forgetCustomer(customerId);
      return c.json(revoked, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/customers/{customerId}/usage",
      summary: "Any customer's usage records, newest first",
      ...admin,
      request: {
        params: CustomerParam,
        query: UsageQuerySchema,
      },
      responses: { 200: json(UsagePageSchema, "Usage"), 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { customerId } = c.req.valid("param");
      return c.json(await usagePage(c.env, customerId, c.req.valid("query"), () => customerNotFound(customerId)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/customers/{customerId}/balance",
      summary: "Any customer's balance and spend",
      ...admin,
      request: { params: CustomerParam },
      responses: { 200: json(AdminBalanceSchema, "Balance, in the ledger's currency"), 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { customerId } = c.req.valid("param");
      const balance = await ledgerStub(c.env, customerId).balance();
      if (!balance) throw customerNotFound(customerId);
      return c.json({ ...balance, currency: loadConfig(c.env).wallet.currency }, 200);
    },
  );
