import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { QuotaRule } from "../../durable-objects/quota";
import { loadConfig } from "../../domain/config/config";
import { forgetKey } from "../gateway/key-cache";
import { missingScope } from "../../domain/gateway/key-scopes";
import { rateLimited } from "../gateway/rate-blocks";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../../domain/errors";
import { quotaStub } from "../../domain/objects/stubs";

/**
 * Admission of a wallet call, after `requireCustomerKey` and before the body
 * is read: the key's scope (`wallet:read`, or `wallet:move` for send, stake
 * and unstake: 403 naming it), then its rate limits in its Quota object
 * (every wallet call counts against the key's requests_per_minute, a move
 * also against WALLET_MOVES_PER_MINUTE: 429 with Retry-After). The Ledger
 * checks a move's key again inside the move (durable-objects/wallet/key-moves.ts),
 * with its spend limit; after a move this isolate forgets the key's cached
 * state, so its next completion sees the spend.
 */
export function walletAccess(kind: "read" | "move") {
  return createMiddleware<AppEnv>(async function walletAccess(c, next) {
    const { state, hash } = walletKeyAuth(c);
    const refused = missingScope(state.key.scopes, kind === "move" ? "wallet:move" : "wallet:read");
    if (refused) throw ApiError.from(refused);
    const rules: QuotaRule[] = [{ name: "requests", limit: state.key.requestsPerMinute, windowS: 60, cost: 1 }];
    if (kind === "move") rules.push({ name: "wallet_moves", limit: loadConfig(c.env).wallet.movesPerMinute, windowS: 60, cost: 1 });
    const decision = await quotaStub(c.env, `key:${state.key.id}`).consume(rules);
    if (!decision.ok) throw rateLimited(decision);
    try {
      await next();
    } finally {
      if (kind === "move") forgetKey(hash);
    }
  });
}

function walletKeyAuth(c: Context<AppEnv>) {
  const auth = c.get("customerAuth");
  if (!auth) throw new ApiError(401, "invalid_api_key", "missing customer API key");
  return auth;
}

/** The account and key a wallet call is made with (after `walletAccess`). */
export function walletKeyOf(c: Context<AppEnv>): { customerId: string; keyId: string } {
  const { key } = walletKeyAuth(c).state;
  return { customerId: key.customerId, keyId: key.id };
}
