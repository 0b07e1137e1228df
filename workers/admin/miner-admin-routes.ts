import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { loadConfig, type RouterConfig } from "../../domain/config/config";
import { ApiError, ErrorBodySchema } from "../../domain/errors";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { isPrivateHost } from "../../domain/net/address-guard";
import { type AddressProof, AddressChallengeRequestSchema, AddressChallengeSchema, MinerPublicSchema, MinerRegisterSchema, MinerUpdateSchema } from "../../domain/schemas/miner";
import { addressProofMessage, addressProven } from "../../domain/miners/address-proof";
import { routerSigner } from "../../domain/receipts/router-signer";
import { MinerBanRequestSchema, MinerBanSchema } from "../../domain/schemas/miner-join";
import { EvmAddressSchema } from "../../domain/schemas/common";
import type { MinerRefusal } from "../../durable-objects/miner-registry";
import type { Env } from "../env";
import { ledgerStub, registryStub } from "../../domain/objects/stubs";

const admin = { security: bearerSecurity, middleware: [requireAdminKey()], tags: ["admin"] };
const MinerIdParamSchema = z.object({
  minerId: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, "not a miner id")
    .openapi({ param: { name: "minerId", in: "path" } }),
});

function checkUrl(url: string | undefined, config: RouterConfig) {
  if (url === undefined || config.allowPrivateMinerUrls) return;
  if (isPrivateHost(new URL(url).hostname)) {
    throw new ApiError(400, "invalid_request", "invalid body: url: must not point at a loopback, private or link-local address", {
      issues: [{ field: "url", message: "private address" }],
    });
  }
}

/** A payout account must be a gateway customer: rewards to a name nobody holds would wait forever. */
async function checkPayoutAccount(env: Env, account: string | null | undefined) {
  if (!account || (await ledgerStub(env, account).balance())) return;
  throw new ApiError(400, "invalid_request", `invalid body: payout_account: no gateway customer ${account} exists`, {
    issues: [{ field: "payout_account", message: "unknown customer" }],
  });
}

/** A miner id, or an evm_address, another miner holds. */
const minerConflict = {
  content: { "application/json": { schema: ErrorBodySchema } },
  description: "miner_exists: the id, or the evm_address (details.issues names it), is another miner's",
};

const minerNotFound = (id: string) => new ApiError(404, "miner_not_found", `miner ${id} does not exist`);

const badProof = (message: string) => new ApiError(400, "invalid_request", `invalid body: address_proof: ${message}`, { issues: [{ field: "address_proof", message }] });

/**
 * Checks that `proof` is `address`'s signature over an open challenge of
 * this router for `url`; answers the challenge's nonce, which the registry
 * uses up with the write (so a proof counts once, even when two requests
 * race with it).
 */
async function proveAddress(env: Env, config: RouterConfig, claim: { url: string; address: string }, proof: AddressProof | undefined): Promise<string> {
  if (!proof) throw badProof("required to register or move a miner with an evm_address");
  const challenge = await registryStub(env).openChallenge(proof.nonce);
  if (!challenge) throw badProof("unknown, used or expired challenge");
  const router = routerSigner(config.signerKey).address;
  if (!(await addressProven({ router, ...claim, nonce: challenge.nonce, issuedAt: challenge.issuedAt }, proof.signature))) {
    throw badProof("not the evm_address's signature over this router's challenge for this url");
  }
  return challenge.nonce;
}

/** The answer to a refused registry write, naming the field at fault. */
function refusal(r: MinerRefusal, id: string): ApiError {
  if (r.refused === "address_taken") {
    return new ApiError(409, "miner_exists", "evm_address: another registered miner, or a wallet account (POST /neuroshard/api/v1/wallet/addresses), holds this address", {
      issues: [{ field: "evm_address", message: "taken" }],
    });
  }
  if (r.refused === "challenge_used") return badProof("unknown, used or expired challenge");
  return new ApiError(409, "miner_exists", `miner ${id} already exists`);
}

const AddressParamSchema = z.object({ address: EvmAddressSchema.openapi({ param: { name: "address", in: "path" } }) });

export const minerAdminRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/miners/bans",
      summary: "Bans an address: every miner under it is benched, and it cannot join by itself (POST /api/v1/miners/join) until unbanned",
      ...admin,
      request: { body: { content: { "application/json": { schema: MinerBanRequestSchema } }, required: true } },
      responses: {
        201: json(MinerBanSchema.extend({ benched: z.array(z.string()) }), "Banned; `benched` lists the miners it benched"),
        400: errorResponses[400],
        401: errorResponses[401],
      },
    }),
    async (c) => {
      const { evm_address, reason } = c.req.valid("json");
      const { ban, benched } = await registryStub(c.env).banAddress(evm_address, reason);
      return c.json({ ...ban, benched }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admin/miners/bans",
      summary: "Lists the banned addresses",
      ...admin,
      responses: { 200: json(z.object({ bans: z.array(MinerBanSchema) }), "Bans, oldest first"), 401: errorResponses[401] },
    }),
    async (c) => c.json({ bans: await registryStub(c.env).listBans() }, 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/api/v1/admin/miners/bans/{address}",
      summary: "Lifts a ban: the address may join again (the miners the ban benched stay benched until PATCH benched: false)",
      ...admin,
      request: { params: AddressParamSchema },
      responses: { 200: json(z.object({ unbanned: z.string() }), "Unbanned"), 400: errorResponses[400], 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { address } = c.req.valid("param");
      if (!(await registryStub(c.env).unbanAddress(address))) throw new ApiError(404, "ban_not_found", `${address} is not banned`);
      return c.json({ unbanned: address.toLowerCase() }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/miners",
      summary: "Registers a miner (an OpenAI-compatible server) with its bearer credential",
      ...admin,
      request: { body: { content: { "application/json": { schema: MinerRegisterSchema } }, required: true } },
      responses: {
        201: json(MinerPublicSchema, "Registered; the credential is stored sealed and never shown"),
        400: errorResponses[400],
        401: errorResponses[401],
        409: minerConflict,
      },
    }),
    async (c) => {
      const { address_proof, ...input } = c.req.valid("json");
      const config = loadConfig(c.env);
      checkUrl(input.url, config);
      await checkPayoutAccount(c.env, input.payout_account);
      const nonce = input.evm_address ? await proveAddress(c.env, config, { url: input.url, address: input.evm_address }, address_proof) : undefined;
      const miner = await registryStub(c.env).registerMiner(input, nonce);
      if ("refused" in miner) throw refusal(miner, input.id ?? "");
      return c.json(miner, 201);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/api/v1/admin/miners/{minerId}",
      summary: "Updates a miner",
      ...admin,
      request: { params: MinerIdParamSchema, body: { content: { "application/json": { schema: MinerUpdateSchema } }, required: true } },
      responses: {
        200: json(MinerPublicSchema, "Updated"),
        400: errorResponses[400],
        401: errorResponses[401],
        404: errorResponses[404],
        409: minerConflict,
      },
    }),
    async (c) => {
      const { minerId } = c.req.valid("param");
      const { address_proof, ...patch } = c.req.valid("json");
      const config = loadConfig(c.env);
      checkUrl(patch.url, config);
      await checkPayoutAccount(c.env, patch.payout_account);
      const registry = registryStub(c.env);
      const current = await registry.getMiner(minerId);
      if (!current) throw minerNotFound(minerId);
      // The proof names the URL: a new address, or a new URL for the address it has, is proven again.
      const url = patch.url ?? current.url;
      const address = patch.evm_address === undefined ? (url !== current.url ? current.evm_address : null) : patch.evm_address;
      const nonce = address ? await proveAddress(c.env, config, { url, address }, address_proof) : undefined;
      const miner = await registry.updateMiner(minerId, patch, nonce);
      if (!miner) throw minerNotFound(minerId);
      if ("refused" in miner) throw refusal(miner, minerId);
      return c.json(miner, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/miners/challenge",
      summary: "Issues a single-use challenge a miner's key signs to prove its evm_address (address_proof), open for 10 minutes",
      ...admin,
      request: { body: { content: { "application/json": { schema: AddressChallengeRequestSchema } }, required: true } },
      responses: { 201: json(AddressChallengeSchema, "Sign `message` with the evm_address's key"), 400: errorResponses[400], 401: errorResponses[401] },
    }),
    async (c) => {
      const { url, evm_address } = c.req.valid("json");
      const router = routerSigner(loadConfig(c.env).signerKey).address;
      const challenge = await registryStub(c.env).issueChallenge();
      return c.json(
        {
          nonce: challenge.nonce,
          message: addressProofMessage({ router, url, address: evm_address, nonce: challenge.nonce, issuedAt: challenge.issuedAt }),
          router,
          issued_at: new Date(challenge.issuedAt).toISOString(),
          expires_at: new Date(challenge.expiresAt).toISOString(),
        },
        201,
      );
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/api/v1/admin/miners/{minerId}",
      summary: "Removes a miner",
      ...admin,
      request: { params: MinerIdParamSchema },
      responses: { 200: json(z.object({ removed: z.string() }), "Removed"), 401: errorResponses[401], 404: errorResponses[404] },
    }),
    async (c) => {
      const { minerId } = c.req.valid("param");
      if (!(await registryStub(c.env).removeMiner(minerId))) throw minerNotFound(minerId);
      return c.json({ removed: minerId }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/admin/miners/health-check",
      summary: "Runs the miner health check now (the cron trigger runs it periodically)",
      ...admin,
      responses: {
        200: json(z.object({ results: z.array(z.object({ id: z.string(), healthy: z.boolean(), error: z.string().nullable() })) }), "Results"),
        401: errorResponses[401],
      },
    }),
    async (c) => c.json({ results: await registryStub(c.env).checkHealth() }, 200),
  );
