import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { loadConfig, type RouterConfig } from "../../domain/config/config";
import { sha256Hex } from "../../domain/crypto/sha256";
import type { AppEnv } from "../http/app-env";
import { ApiError, ErrorBodySchema } from "../../domain/errors";
import { openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { probeMiner } from "../../domain/miners/call-miner";
import { nonceExpiry, staleReason } from "../../domain/miners/join-admission";
import { type JoinClaim, joinSigned, leaveSigned } from "../../domain/miners/join-message";
import { blockedHostReason } from "../../domain/net/address-guard";
import { routerSigner } from "../../domain/receipts/router-signer";
import { type MinerJoinRequest, MinerJoinRequestSchema, MinerJoinResponseSchema, MinerLeaveRequestSchema, MinerLeaveResponseSchema } from "../../domain/schemas/miner-join";
import type { JoinRefusal } from "../../durable-objects/miner-registry";
import type { Env } from "../env";
import { ledgerStub, quotaStub, registryStub } from "../../domain/objects/stubs";

/** How long the join's probe of the node may take. */
const PROBE_TIMEOUT_MS = 5_000;

const problem = (description: string) => ({ content: { "application/json": { schema: ErrorBodySchema } }, description });

/**
 * The client as the edge reports it: CF-Connecting-IP, which Cloudflare sets
 * (and `wrangler dev`/Miniflare sets to the socket's address); nothing else a
 * client sends changes who it counts as.
 */
const clientIp = (c: Context<AppEnv>) => c.req.header("CF-Connecting-IP")?.trim() || "unknown";

/** Counts one join or leave against `identity`'s minute; over the limit, 429 with Retry-After. */
async function throttle(env: Env, identity: string, limit: number, what: string): Promise<void> {
  const d = await quotaStub(env, `miner-join:${identity}`).consume([{ name: "miner-join", limit, windowS: 60, cost: 1 }]);
  if (d.ok) return;
  throw new ApiError(429, "throttled", `too many miner joins (${limit} a minute per ${what})`, { retry_after: d.retryAfterS }, { "Retry-After": String(d.retryAfterS) });
}

function refuseStale(issuedAt: string, config: RouterConfig): void {
  const reason = staleReason(issuedAt, Date.now(), config.minerJoin.maxSkewSeconds);
  if (reason) throw new ApiError(400, "stale_join", `${reason}: sign again with the current time`, { issues: [{ field: "issued_at", message: reason }] });
}

const invalidSignature = () => new ApiError(401, "invalid_signature", "signature: not the evm_address's signature over this router's join text (router, fields and nonce as sent)");

function refused(r: JoinRefusal): ApiError {
  switch (r.refused) {
    case "address_banned":
      return new ApiError(403, "address_banned", "evm_address: an operator banned this address; it cannot join");
    case "nonce_reused":
      return new ApiError(409, "nonce_reused", "nonce: already used by this address; sign again with a fresh nonce");
    case "address_taken":
      return new ApiError(409, "address_taken", "evm_address: another miner holds this address at another URL (an operator's, or a node whose lease is live)", {
        issues: [{ field: "evm_address", message: "taken" }],
      });
    case "not_joined":
      return new ApiError(404, "miner_not_found", "evm_address: no joined miner holds this address");
  }
}

/** In production, a node's URL must be a public address (ALLOW_PRIVATE_MINER_URLS is refused there). */
function refusePrivate(url: string, config: RouterConfig): void {
  if (config.allowPrivateMinerUrls) return;
  const reason = blockedHostReason(new URL(url).hostname);
  if (reason) throw new ApiError(400, "private_address", `url: ${reason}`, { issues: [{ field: "url", message: "private address" }] });
}

/**
 * The locked stake the join needs, of the account standing behind the
 * address: the payout account an operator gave its miner, else the wallet
 * account that proved the address (POST /neuroshard/api/v1/wallet/addresses).
 * An address no account stands behind has nothing staked. Answers the payout
 * account a new miner gets (the proven account, when there is one).
 */
async function requireStake(env: Env, config: RouterConfig, address: string, payoutAccount: string | null): Promise<string | null> {
  const min = config.minerJoin.minStakeMicros;
  if (min === null) throw new ApiError(403, "joins_closed", "this router takes no self-joining miners: MINER_JOIN_MIN_STAKE is not declared in its production configuration");
  if (min === 0) return payoutAccount;
  const account = payoutAccount;
  if (account === null) {
    throw new ApiError(
      403,
      "insufficient_stake",
      `no account stands behind ${address}: prove it for a wallet account (POST /neuroshard/api/v1/wallet/addresses) and stake there; joining takes ${min} micros staked`,
      {
        staked_micros: 0,
        required_micros: min,
      },
    );
  }
  const { stakedMicros } = await ledgerStub(env, account).lockedStake(Date.now());
  if (stakedMicros < min) {
    throw new ApiError(403, "insufficient_stake", `account ${account} has ${stakedMicros} micros staked; joining takes ${min}`, {
      staked_micros: stakedMicros,
      required_micros: min,
    });
  }
  return account;
}

/** Probes the node as the router will call it (its credential, its protocol); redirects are not followed (they could lead anywhere). */
async function requireProbe(body: MinerJoinRequest): Promise<void> {
  const probe = await probeMiner(
    { id: "joining", url: body.url, credential: body.credential, protocol: body.protocol },
    { timeoutMs: PROBE_TIMEOUT_MS, fetcher: (input, init) => fetch(input, { ...init, redirect: "manual" }) },
  );
  if (!probe.ok) throw new ApiError(422, "probe_failed", `url: the router could not reach the node as a ${body.protocol} miner: ${probe.error}`, { probe_error: probe.error });
}

export const minerJoinRoutes = openApiApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/miners/join",
      tags: ["miners"],
      summary: "A miner node joins (or renews its lease) by itself, authenticated by its key's signature; no bearer key",
      request: { body: { content: { "application/json": { schema: MinerJoinRequestSchema } }, required: true } },
      responses: {
        200: json(MinerJoinResponseSchema, "Renewed: the same miner, its lease extended"),
        201: json(MinerJoinResponseSchema, "Joined: a new miner"),
        400: problem("invalid_request (a field), stale_join (issued_at out of window) or private_address (production)"),
        401: problem("invalid_signature: not the evm_address's signature over this router's join text"),
        403: problem("address_banned, insufficient_stake, or joins_closed (production without MINER_JOIN_MIN_STAKE)"),
        409: problem("nonce_reused, or address_taken (another miner holds the address at another URL)"),
        422: problem("probe_failed: the node did not answer as the protocol it named"),
        429: problem("throttled: too many joins from this client IP or address (Retry-After)"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      await throttle(c.env, `ip:${clientIp(c)}`, config.minerJoin.perIpPerMinute, "client IP");
      refusePrivate(body.url, config);
      refuseStale(body.issued_at, config);
      const address = body.evm_address.toLowerCase();
      const claim: JoinClaim = {
        router: routerSigner(config.signerKey).address,
        url: body.url,
        address,
        models: body.models,
        protocol: body.protocol,
        offchain: body.offchain,
        maxConcurrency: body.max_concurrency,
        credentialSha256: await sha256Hex(body.credential),
        nonce: body.nonce,
        issuedAt: body.issued_at,
      };
      if (!(await joinSigned(claim, body.signature))) throw invalidSignature();
      await throttle(c.env, `address:${address}`, config.minerJoin.perAddressPerMinute, "address");
      const registry = registryStub(c.env);
      const preflight = await registry.joinPreflight(address, body.url, body.nonce);
      if ("refused" in preflight) throw refused(preflight);
      const payoutAccount = await requireStake(c.env, config, address, preflight.payoutAccount);
      await requireProbe(body);
      const now = Date.now();
      const joined = await registry.joinMiner({
        url: body.url,
        address,
        models: body.models,
        protocol: body.protocol,
        offchain: body.offchain,
        maxConcurrency: body.max_concurrency,
        credential: body.credential,
        nonce: body.nonce,
        nonceExpiresAt: nonceExpiry(body.issued_at, config.minerJoin.maxSkewSeconds),
        payoutAccount,
        leaseExpiresAt: now + config.minerJoin.leaseSeconds * 1000,
      });
      if ("refused" in joined) throw refused(joined);
      const { miner, created } = joined;
      return c.json(
        {
          id: miner.id,
          evm_address: address,
          lease_expires_at: miner.lease_expires_at ?? new Date(now).toISOString(),
          lease_seconds: config.minerJoin.leaseSeconds,
          probation: miner.probation,
        },
        created ? 201 : 200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api/v1/miners/leave",
      tags: ["miners"],
      summary: "A joined miner node leaves: its lease ends now and it gets no more tasks (signed like a join; no bearer key)",
      request: { body: { content: { "application/json": { schema: MinerLeaveRequestSchema } }, required: true } },
      responses: {
        200: json(MinerLeaveResponseSchema, "Left: the lease ended"),
        400: problem("invalid_request (a field) or stale_join (issued_at out of window)"),
        401: problem("invalid_signature"),
        404: errorResponses[404],
        409: problem("nonce_reused"),
        429: problem("throttled (Retry-After)"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const config = loadConfig(c.env);
      await throttle(c.env, `ip:${clientIp(c)}`, config.minerJoin.perIpPerMinute, "client IP");
      refuseStale(body.issued_at, config);
      const address = body.evm_address.toLowerCase();
      const claim = { router: routerSigner(config.signerKey).address, address, nonce: body.nonce, issuedAt: body.issued_at };
      if (!(await leaveSigned(claim, body.signature))) throw invalidSignature();
      const left = await registryStub(c.env).leaveMiner(address, body.nonce, nonceExpiry(body.issued_at, config.minerJoin.maxSkewSeconds));
      if ("refused" in left) throw refused(left);
      return c.json({ id: left.id, evm_address: address, lease_expires_at: left.lease_expires_at ?? new Date().toISOString() }, 200);
    },
  );
