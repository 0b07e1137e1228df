import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { ExactEvmScheme } from "@x402/evm";
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { inject } from "vitest";
import { z } from "zod";
import worker from "../../workers/index";
import { MinerPublicSchema } from "../../domain/schemas/miner";
import { call } from "../helpers";

/** The Worker under test with some vars changed, as a client at the edge reaches it. */
export function routerWith(vars: Record<string, string>): typeof fetch {
  return async (input, init) => worker.fetch(new Request(input, init), { ...env, ...vars }, createExecutionContext());
}

/** The Worker with x402 on, and a paying client (a fresh wallet) in front of it. */
export function payingClient(vars: Record<string, string>): typeof fetch {
  const base = routerWith({ X402_ROUTES: "all", X402_FACILITATOR_URL: inject("facilitator").url, X402_PAY_TO: "0x9999999999999999999999999999999999999999", ...vars });
  const account = privateKeyToAccount(generatePrivateKey());
  return wrapFetchWithPaymentFromConfig(base, { schemes: [{ network: "eip155:84532", client: new ExactEvmScheme(account) }] });
}

export const postJson = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

const MinerList = z.object({ miners: z.array(MinerPublicSchema) });

/** The router's miners (GET /api/v1/miners), those of `ids` only. */
export async function minersById(ids: readonly string[]) {
  const res = await call("/api/v1/miners");
  const { miners } = MinerList.parse(await res.json());
  return miners.filter((m) => ids.includes(m.id));
}
