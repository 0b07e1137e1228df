import type { Env } from "../env";

export const ledgerStub = (env: Env, customerId: string) => env.LEDGERS.get(env.LEDGERS.idFromName(`customer:${customerId}`));
export const quotaStub = (env: Env, identity: string) => env.QUOTAS.get(env.QUOTAS.idFromName(identity));
