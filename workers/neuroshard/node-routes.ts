import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { loadConfig } from "../../domain/config/config";
import { requireCustomerKey } from "../gateway/customer-auth";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { json } from "../http/responses";
import { SSE_HEADERS } from "../../domain/sse";
import { amountsAsWritten } from "../wallet/amounts-as-written";
import {
  NeuroShardConfigPatchSchema,
  NeuroShardConfigSchema,
  NeuroShardConfigUpdatedSchema,
  NeuroShardErrorSchema,
  NeuroShardLayersSchema,
  NeuroShardNetworkSchema,
  NeuroShardProofsQuerySchema,
  NeuroShardProofsSchema,
  NeuroShardTrainingGlobalSchema,
  NeuroShardTrainingVerifySchema,
  NeuroShardInferenceRequestSchema,
  NeuroShardInferenceResponseSchema,
  NeuroShardMetricsSchema,
  NeuroShardNodeHealthSchema,
  NeuroShardPeersSchema,
  NeuroShardStatusSchema,
} from "../../domain/schemas/neuroshard";
import {
  IdempotencyKeyHeaderSchema,
  WalletAddressChallengeRequestSchema,
  WalletAddressChallengeSchema,
  WalletAddressRegisterSchema,
  WalletAddressSchema,
  WalletBalanceSchema,
  WalletSendSchema,
  WalletSentSchema,
  WalletStakedSchema,
  WalletStakeSchema,
  WalletTransactionsQuerySchema,
  WalletTransactionsSchema,
  WalletUnstakedSchema,
  WalletUnstakeSchema,
} from "../../domain/schemas/wallet";
import { registryStub } from "../../domain/objects/stubs";
import { nodeSettingsRefusedToAnyKey, patchConfig } from "./config-patch";
import { neuroShardErrorHandler } from "./errors";
import { nodeInference, nodeInferenceStream } from "./inference";
import { nodeReaderOf, routerOrCustomerKey } from "./node-access";
import { nodeConfig, nodeHealth, nodeLayers, nodeMetrics, nodeNetwork, nodePeers, nodeProofs, nodeStatus } from "./node-report";
import { trainingGlobal, trainingVerdict } from "./training";
import { prometheusText } from "./prometheus";
import { walletAddressChallenge, walletBalance, walletRegisterAddress, walletSend, walletStake, walletTransactions, walletUnstake } from "./wallet";
import { walletAccess, walletKeyOf } from "./wallet-admission";
import { walletClaims } from "./wallet-claims";
import { WalletClaimsQuerySchema, WalletClaimsSchema } from "../../domain/schemas/wallet-claims";

/** The NeuroShard node HTTP API (shared/seeds/003) under its own base, its paths colliding with the router's. */
export const NEUROSHARD_BASE = "/neuroshard/api/v1";
const TRAINING_BASE = "/neuroshard/api/training";

const tags = ["neuroshard"];
const nodeError = (description: string) => ({ content: { "application/json": { schema: NeuroShardErrorSchema } }, description });
/** The network views: a router key reads them whole, a customer key without miner addresses and only its own tasks' proofs (node-access.ts). */
const eitherKey = { security: [...bearerSecurity, { customerKey: [] }], middleware: [routerOrCustomerKey()] };
const SCOPE_MISSING = "SCOPE_MISSING: the key lacks the scope (`required_scope`) this call needs";
const MOVES_LIMITED = "RATE_LIMITED: the key's requests_per_minute or WALLET_MOVES_PER_MINUTE (`retry_after`, header Retry-After)";
/** The key is checked before the body is read. */
const customerKey = { security: [{ customerKey: [] }], middleware: [requireCustomerKey()] };
/** Wallet routes: the key, then its scope and rate limits (wallet-admission.ts), all before the body is read. */
const walletKey = (kind: "read" | "move") => ({ security: [{ customerKey: [] }], middleware: [requireCustomerKey(), walletAccess(kind)] });
/** A wallet move: the key, its scope and limits, then its amount read as the client wrote it. */
const walletMove = { security: [{ customerKey: [] }], middleware: [requireCustomerKey(), walletAccess("move"), amountsAsWritten] };

export const neuroShardRoutes = openApiApp()
  .onError(neuroShardErrorHandler)
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/status`,
      tags,
      summary: "This router as a NeuroShard node: id, version, uptime, role, peers",
      responses: { 200: json(NeuroShardStatusSchema, "Node status") },
    }),
    async (c) => c.json(await nodeStatus(c.env, loadConfig(c.env).routerName), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/health`,
      tags,
      summary: "Health: miners (at least one not benched) and storage",
      responses: { 200: json(NeuroShardNodeHealthSchema, "Healthy"), 503: json(NeuroShardNodeHealthSchema, "A check failed") },
    }),
    async (c) => {
      const health = await nodeHealth(c.env);
      return health.healthy ? c.json(health, 200) : c.json(health, 503);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/metrics`,
      tags,
      summary: "Inference counters summed over every session's tasks (null: not measured here)",
      responses: { 200: json(NeuroShardMetricsSchema, "Metrics") },
    }),
    async (c) => c.json(await nodeMetrics(c.env), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/neuroshard/metrics",
      tags,
      summary: "The same figures as Prometheus text",
      responses: { 200: { content: { "text/plain": { schema: z.string() } }, description: "Prometheus exposition format 0.0.4" } },
    }),
    async (c) => {
      const [status, metrics, miners] = await Promise.all([nodeStatus(c.env, loadConfig(c.env).routerName), nodeMetrics(c.env), registryStub(c.env).listMiners()]);
      return c.text(prometheusText(status, metrics, miners), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/peers`,
      tags,
      summary: "The miners this node fronts: id, role, layers, latency, and to a router key their host (never credentials); router or customer key",
      ...eitherKey,
      responses: { 200: json(NeuroShardPeersSchema, "Peers"), 401: nodeError("Missing or invalid key") },
    }),
    async (c) => c.json(await nodePeers(c.env, await nodeReaderOf(c)), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${NEUROSHARD_BASE}/inference`,
      tags,
      summary: "Inference on the NEUROSHARD_MODEL gateway alias: customer key, billed like the gateway",
      ...customerKey,
      request: { body: { content: { "application/json": { schema: NeuroShardInferenceRequestSchema } }, required: true } },
      responses: {
        200: {
          content: {
            "application/json": { schema: NeuroShardInferenceResponseSchema },
            "text/event-stream": { schema: z.string().openapi({ description: '`data: {"token", "index"}` events, then `data: {"token": "[DONE]", "finish_reason", "usage"}`' }) },
          },
          description: "The agreed answer (with `stream`, its tokens as server-sent events)",
        },
        400: nodeError("INVALID_REQUEST: `details.field` names the field"),
        401: nodeError("UNAUTHORIZED"),
        402: nodeError("INSUFFICIENT_BALANCE (`required`, `available`) or SPEND_LIMIT_REACHED"),
        429: nodeError("RATE_LIMITED (`retry_after`, and the Retry-After header)"),
        502: nodeError("The miners failed"),
        503: nodeError("No miner available"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      if (body.stream) {
        const live = await nodeInferenceStream(c, body);
        return new Response(live.stream, { headers: { ...SSE_HEADERS, "x-request-id": live.requestId } });
      }
      const { answer, requestId } = await nodeInference(c, body);
      return c.json(answer, 200, { "x-request-id": requestId });
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/layers`,
      tags,
      summary: "The layers the NeuroShard miners report holding, with their type and memory as reported (the router holds none); router or customer key",
      ...eitherKey,
      responses: { 200: json(NeuroShardLayersSchema, "Layers"), 401: nodeError("Missing or invalid key") },
    }),
    async (c) => c.json(await nodeLayers(c.env), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/network`,
      tags,
      summary: "Node counts by role, capacity and training, from the miners and their own reports",
      responses: { 200: json(NeuroShardNetworkSchema, "Network") },
    }),
    async (c) => c.json(await nodeNetwork(c.env), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/proofs`,
      tags,
      summary:
        "Each decided task's consensus record (precommit hash, agreed or not, what it paid its miners), newest first, with stats: every task's to a router key, a customer key's own tasks' to it",
      ...eitherKey,
      request: { query: NeuroShardProofsQuerySchema },
      responses: { 200: json(NeuroShardProofsSchema, "Proofs"), 400: nodeError("INVALID_REQUEST"), 401: nodeError("Missing or invalid key") },
    }),
    async (c) => c.json(await nodeProofs(c.env, c.req.valid("query").limit, await nodeReaderOf(c)), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${TRAINING_BASE}/global`,
      tags,
      summary: "The network's training, aggregated from the NeuroShard miners' own reports",
      responses: { 200: json(NeuroShardTrainingGlobalSchema, "Training state") },
    }),
    async (c) => c.json(trainingGlobal(await registryStub(c.env).listMiners()), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${TRAINING_BASE}/verify`,
      tags,
      summary: "Is the distributed training working? (no training miner: no, and why)",
      responses: { 200: json(NeuroShardTrainingVerifySchema, "Verdict") },
    }),
    async (c) => c.json(trainingVerdict(trainingGlobal(await registryStub(c.env).listMiners())), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/config`,
      tags,
      summary: "The node's settings: the seed's node fields and the router's non-secret configuration; router or customer key",
      ...eitherKey,
      responses: { 200: json(NeuroShardConfigSchema, "Settings"), 401: nodeError("Missing or invalid key") },
    }),
    (c) => c.json(nodeConfig(loadConfig(c.env), c.req.url), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: `${NEUROSHARD_BASE}/config`,
      tags,
      summary:
        "Changes run-time settings (default timeouts, trial limits), kept over the deployment's vars; admin key. The seed's node settings (`training`, `resources`, ports) are refused NOT_CONFIGURABLE to any key of the node's (router, customer or admin)",
      security: [...bearerSecurity, { customerKey: [] }],
      middleware: [routerOrCustomerKey(), nodeSettingsRefusedToAnyKey, requireAdminKey()],
      request: { body: { content: { "application/json": { schema: NeuroShardConfigPatchSchema } }, required: true } },
      responses: {
        200: json(NeuroShardConfigUpdatedSchema, "What changed"),
        400: nodeError(
          "INVALID_REQUEST: `details.field` names the setting; NOT_CONFIGURABLE: a node setting of the seed's (`training` is the miners'), `details.configurable` lists what is",
        ),
        401: nodeError("Missing or invalid key; any change the settings allow needs the admin key"),
      },
    }),
    async (c) => c.json(await patchConfig(c.env, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/wallet/balance`,
      tags,
      summary: "The key's customer account as a wallet: available, staked, pending (cooling down), total, and its stake (scope wallet:read)",
      ...walletKey("read"),
      responses: { 200: json(WalletBalanceSchema, "Balance"), 401: nodeError("UNAUTHORIZED"), 403: nodeError(SCOPE_MISSING), 429: nodeError("RATE_LIMITED") },
    }),
    async (c) => c.json(await walletBalance(c.env, walletKeyOf(c).customerId), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/wallet/claims`,
      tags,
      summary:
        "The account's miners' claimable rewards: earned (ledger), posted (last epoch on the RewardDistributor, with the proof `npm run chain -- claim` sends), claimed and unclaimed (on chain) (scope wallet:read)",
      ...walletKey("read"),
      request: { query: WalletClaimsQuerySchema },
      responses: {
        200: json(WalletClaimsSchema, "Claims"),
        400: nodeError("INVALID_REQUEST: `details.field` names the field"),
        401: nodeError("UNAUTHORIZED"),
        403: nodeError(SCOPE_MISSING),
        404: nodeError("NOT_FOUND: this router posts no rewards on chain; ACCOUNT_NOT_FOUND"),
        429: nodeError("RATE_LIMITED"),
        503: nodeError("CHAIN_NOT_CONFIGURED: the chain configuration is invalid; `details.problems` names each setting"),
      },
    }),
    async (c) => c.json(await walletClaims(c.env, walletKeyOf(c).customerId, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: `${NEUROSHARD_BASE}/wallet/transactions`,
      tags,
      summary: "The account's rewards, usage charges, credits, sends, receipts, stakes, unstakes, releases and slashes, newest first (scope wallet:read)",
      ...walletKey("read"),
      request: { query: WalletTransactionsQuerySchema },
      responses: {
        200: json(WalletTransactionsSchema, "Transactions"),
        400: nodeError("INVALID_REQUEST: `details.field` names the field"),
        401: nodeError("UNAUTHORIZED"),
        403: nodeError(SCOPE_MISSING),
        429: nodeError("RATE_LIMITED"),
      },
    }),
    async (c) => c.json(await walletTransactions(c.env, walletKeyOf(c).customerId, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${NEUROSHARD_BASE}/wallet/send`,
      tags,
      summary:
        "Sends to another account, named by customer id or by a registered EVM address (a miner's evm_address: its payout account; an address a customer proved at /wallet/addresses): debited here at once, credited there once; with Idempotency-Key, a retry moves nothing more (scope wallet:move)",
      ...walletMove,
      request: { headers: IdempotencyKeyHeaderSchema, body: { content: { "application/json": { schema: WalletSendSchema } }, required: true } },
      responses: {
        200: json(WalletSentSchema, "Sent (`x-idempotent-replay: true` when the key was seen before)"),
        400: nodeError("INVALID_REQUEST: `details.field` names the field (`to` for the account itself, or one of its own addresses)"),
        401: nodeError("UNAUTHORIZED"),
        402: nodeError("INSUFFICIENT_BALANCE (`required`: amount and fee, `available`), or SPEND_LIMIT_REACHED: amount and fee would pass the key's spend limit"),
        403: nodeError(SCOPE_MISSING),
        404: nodeError(
          "ACCOUNT_NOT_FOUND (`details.field`: `to`): no such customer, no miner or account registered with that address, or a miner's without a payout account; nothing moved",
        ),
        409: nodeError("IDEMPOTENCY_CONFLICT: the key was used for another send"),
        429: nodeError(MOVES_LIMITED),
      },
    }),
    async (c) => {
      const key = c.req.valid("header")["idempotency-key"] ?? null;
      const { sent, replayed } = await walletSend(c.env, walletKeyOf(c), c.req.valid("json"), key);
      return c.json(sent, 200, replayed ? { "x-idempotent-replay": "true" } : {});
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${NEUROSHARD_BASE}/wallet/stake`,
      tags,
      summary: "Stakes from the available balance, locked for duration_days at that duration's multiplier (scope wallet:move)",
      ...walletMove,
      request: { body: { content: { "application/json": { schema: WalletStakeSchema } }, required: true } },
      responses: {
        200: json(WalletStakedSchema, "Staked"),
        400: nodeError("INVALID_REQUEST: `details.field` names the field"),
        401: nodeError("UNAUTHORIZED"),
        402: nodeError("INSUFFICIENT_BALANCE (`required`, `available`), or SPEND_LIMIT_REACHED: the amount would pass the key's spend limit"),
        403: nodeError(SCOPE_MISSING),
        409: nodeError("STAKE_LOCKED: the new lock would end before the current unlock date"),
        429: nodeError(MOVES_LIMITED),
      },
    }),
    async (c) => c.json(await walletStake(c.env, walletKeyOf(c), c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${NEUROSHARD_BASE}/wallet/unstake`,
      tags,
      summary: "Unstakes after the unlock date: the amount is pending for the cooldown, then available (scope wallet:move)",
      ...walletMove,
      request: { body: { content: { "application/json": { schema: WalletUnstakeSchema } }, required: true } },
      responses: {
        200: json(WalletUnstakedSchema, "Cooling down"),
        400: nodeError("INVALID_REQUEST: `details.field` names the field"),
        401: nodeError("UNAUTHORIZED"),
        402: nodeError("INSUFFICIENT_STAKE (`required`, `available`: what is staked)"),
        403: nodeError(SCOPE_MISSING),
        409: nodeError("STAKE_LOCKED: before the unlock date (`unlock_date`)"),
        429: nodeError(MOVES_LIMITED),
      },
    }),
    async (c) => c.json(await walletUnstake(c.env, walletKeyOf(c), c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${NEUROSHARD_BASE}/wallet/addresses/challenge`,
      tags,
      summary: "A single-use challenge (10 minutes) naming the key's account and an EVM address: its key signs `message` to register the address (scope wallet:move)",
      ...walletKey("move"),
      request: { body: { content: { "application/json": { schema: WalletAddressChallengeRequestSchema } }, required: true } },
      responses: {
        201: json(WalletAddressChallengeSchema, "Sign `message` with the address's key (EIP-191 personal_sign)"),
        400: nodeError("INVALID_REQUEST: `details.field` names the field"),
        401: nodeError("UNAUTHORIZED"),
        403: nodeError(SCOPE_MISSING),
        429: nodeError(MOVES_LIMITED),
      },
    }),
    async (c) => c.json(await walletAddressChallenge(c.env, walletKeyOf(c).customerId, c.req.valid("json").address), 201),
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${NEUROSHARD_BASE}/wallet/addresses`,
      tags,
      summary:
        "Registers an EVM address for the key's account with its proof (the challenge's nonce, signed by the address's key): a send to it then reaches this account (scope wallet:move)",
      ...walletKey("move"),
      request: { body: { content: { "application/json": { schema: WalletAddressRegisterSchema } }, required: true } },
      responses: {
        201: json(WalletAddressSchema, "Registered"),
        400: nodeError(
          "INVALID_REQUEST: `details.field` names the field (`nonce`: unknown, used or expired challenge; `signature`: not the address's over this account's challenge)",
        ),
        401: nodeError("UNAUTHORIZED"),
        403: nodeError(SCOPE_MISSING),
        409: nodeError("ADDRESS_TAKEN (`details.field`: `address`): a miner or another account holds the address"),
        429: nodeError(MOVES_LIMITED),
      },
    }),
    async (c) => c.json(await walletRegisterAddress(c.env, walletKeyOf(c).customerId, c.req.valid("json")), 201),
  );
