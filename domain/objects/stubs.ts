import { type AnchorTarget, type ChainTarget, loadConfig, type RewardTarget, type Vars } from "../config/config.ts";
import { metered } from "../object-traffic.ts";

/**
 * Every Durable Object is addressed here and nowhere else, so that the
 * naming of objects (one per session, per customer, per quota identity…)
 * is decided once. With OBJECT_TRAFFIC_METER on, each call is counted by
 * object name.
 *
 * Each function is generic in the object type its namespace carries: the
 * Worker passes its `Env`, whose namespaces are typed with the object
 * classes; an object passes its own env, which types a peer either with the
 * peer's class (a peer below it) or with a port (domain/objects/ports.ts,
 * where two objects call each other). So this module names no object class,
 * and the layers stay acyclic.
 */
type Branded = Rpc.DurableObjectBranded | undefined;

function stub<T extends Branded>(env: Vars, namespace: DurableObjectNamespace<T>, name: string): DurableObjectStub<T> {
  return metered(loadConfig(env).objectTrafficMeter, name, namespace.get(namespace.idFromName(name)));
}

export const sessionStub = <T extends Branded>(env: Vars & { SESSIONS: DurableObjectNamespace<T> }, sessionId: number) => stub(env, env.SESSIONS, `session:${sessionId}`);

/** Shard k of a session (domain/sessions/shard-layout.ts); shard 0 is the session's own object. */
export const sessionShardStub = <T extends Branded>(env: Vars & { SESSIONS: DurableObjectNamespace<T> }, sessionId: number, shard: number) =>
  shard === 0 ? sessionStub(env, sessionId) : stub(env, env.SESSIONS, `session:${sessionId}:shard:${shard}`);

/** The deployment's one miner registry (also the session directory). */
export const registryStub = <T extends Branded>(env: Vars & { MINERS: DurableObjectNamespace<T> }) => stub(env, env.MINERS, "registry");

export const ledgerStub = <T extends Branded>(env: Vars & { LEDGERS: DurableObjectNamespace<T> }, customerId: string) => stub(env, env.LEDGERS, `customer:${customerId}`);

export const quotaStub = <T extends Branded>(env: Vars & { QUOTAS: DurableObjectNamespace<T> }, identity: string) => stub(env, env.QUOTAS, identity);

/** One A2A task store per caller (key holder), so that callers never see each other's tasks. */
export const a2aTaskStoreStub = <T extends Branded>(env: Vars & { A2A_TASKS: DurableObjectNamespace<T> }, owner: string) => stub(env, env.A2A_TASKS, `owner:${owner}`);

/** One Chain index per chain and contract pair: a new CHAIN_ID or address is a new index, never a mix of two. */
export const chainIndexStub = <T extends Branded>(
  env: Vars & { CHAIN_INDEX: DurableObjectNamespace<T> },
  target: Pick<ChainTarget, "chainId" | "sessionAddress" | "queueAddress">,
) => stub(env, env.CHAIN_INDEX, `chain:${target.chainId}:${target.sessionAddress.toLowerCase()}:${target.queueAddress.toLowerCase()}`);

/** One anchor queue per ReceiptAnchor contract: a Chain index instance of its own (it holds only the anchor tables). */
export const anchorStub = <T extends Branded>(env: Vars & { CHAIN_INDEX: DurableObjectNamespace<T> }, target: Pick<AnchorTarget, "chainId" | "anchorAddress">) =>
  stub(env, env.CHAIN_INDEX, `anchor:${target.chainId}:${target.anchorAddress.toLowerCase()}`);

/** One reward-epoch store per RewardDistributor: a Chain index instance of its own (it holds only the reward tables). */
export const rewardsStub = <T extends Branded>(env: Vars & { CHAIN_INDEX: DurableObjectNamespace<T> }, target: Pick<RewardTarget, "chainId" | "distributorAddress">) =>
  stub(env, env.CHAIN_INDEX, `rewards:${target.chainId}:${target.distributorAddress.toLowerCase()}`);

/**
 * One sender per chain account: every transaction of the router's account
 * (CHAIN_SIGNER_KEY) on a chain goes through this object, one nonce after
 * another (durable-objects/chain-account/).
 */
export const chainAccountStub = <T extends Branded>(env: Vars & { CHAIN_ACCOUNTS: DurableObjectNamespace<T> }, chainId: number, address: string) =>
  stub(env, env.CHAIN_ACCOUNTS, `account:${chainId}:${address.toLowerCase()}`);
