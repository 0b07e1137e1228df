/**
 * The node's membership of its router (issue 25's join spec): a join signed
 * with the miner's key, renewed every third of the lease the router grants (a
 * renewal is a join with a fresh nonce), and a signed leave on shutdown.
 */
import { randomBytes } from "node:crypto";
import type { Hex } from "viem";
import { joinMessage, leaveMessage } from "../domain/miners/join-message.ts";
import { type MinerJoinResponse, MinerJoinResponseSchema } from "../domain/schemas/miner-join.ts";
import type { Log } from "./log.ts";
import { credentialSha256 } from "./secrets.ts";

export type Membership = {
  router: string;
  routerSigner: Hex;
  account: { address: Hex; signMessage(args: { message: string }): Promise<Hex> };
  url: string;
  models: readonly string[];
  protocol: "openai" | "neuroshard";
  offchain: boolean;
  maxConcurrency: number;
  credential: string;
};

/** A refusal the router gave (status and its error code), or a failure to reach it (status 0). */
export class JoinError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "JoinError";
    this.status = status;
    this.code = code;
  }
  /** Worth trying again: the router was unreachable, busy or failing, not refusing this node. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

const nonce = () => randomBytes(16).toString("hex");

async function post(router: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(new URL(path, router), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new JoinError(0, "unreachable", `the router at ${router} is unreachable: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { status: res.status, json: await res.json().catch(() => null) };
}

function refusal(path: string, status: number, json: unknown): JoinError {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : "refused";
  const message = typeof error?.message === "string" ? error.message : "";
  return new JoinError(status, code, `POST ${path} answered ${status} ${code}${message ? `: ${message}` : ""}`);
}

/** One signed join (or renewal); the router's answer, or a JoinError. */
export async function join(m: Membership): Promise<MinerJoinResponse> {
  const claim = {
    router: m.routerSigner,
    url: m.url,
    address: m.account.address,
    models: m.models,
    protocol: m.protocol,
    offchain: m.offchain,
    maxConcurrency: m.maxConcurrency,
    credentialSha256: credentialSha256(m.credential),
    nonce: nonce(),
    issuedAt: new Date().toISOString(),
  };
  const signature = await m.account.signMessage({ message: joinMessage(claim) });
  const path = "/api/v1/miners/join";
  const { status, json } = await post(m.router, path, {
    url: m.url,
    evm_address: m.account.address.toLowerCase(),
    models: m.models,
    protocol: m.protocol,
    offchain: m.offchain,
    max_concurrency: m.maxConcurrency,
    credential: m.credential,
    nonce: claim.nonce,
    issued_at: claim.issuedAt,
    signature,
  });
  if (status !== 200 && status !== 201) throw refusal(path, status, json);
  const answer = MinerJoinResponseSchema.safeParse(json);
  if (!answer.success) throw new JoinError(status, "invalid_answer", `POST ${path} answered ${status} without a lease`);
  return answer.data;
}

/** One signed leave. */
export async function leave(m: Pick<Membership, "router" | "routerSigner" | "account">): Promise<void> {
  const claim = { router: m.routerSigner, address: m.account.address, nonce: nonce(), issuedAt: new Date().toISOString() };
  const signature = await m.account.signMessage({ message: leaveMessage(claim) });
  const path = "/api/v1/miners/leave";
  const { status, json } = await post(m.router, path, { evm_address: claim.address.toLowerCase(), nonce: claim.nonce, issued_at: claim.issuedAt, signature });
  if (status !== 200) throw refusal(path, status, json);
}

/**
 * Keeps the node joined: joins now (a refusal that is not transient is
 * thrown: the operator must fix something), then renews every third of the
 * lease. A renewal that fails is retried a few seconds later, while the lease
 * may still be running; a refusal is logged and retried at the next interval.
 */
export async function keepJoined(m: Membership, log: Log): Promise<{ first: MinerJoinResponse; stop(): void }> {
  let first: MinerJoinResponse | undefined;
  for (let attempt = 0; !first; attempt++) {
    try {
      first = await join(m);
    } catch (err) {
      if (!(err instanceof JoinError) || !err.transient || attempt >= 5) throw err;
      log.error(`join failed (${err.message}); retrying`);
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** attempt)));
    }
  }
  log.info(
    `joined ${m.router} as miner ${first.id} (${first.evm_address}); lease ${first.lease_seconds} s${first.probation.on_probation ? `, on probation (${first.probation.agreeing_results_needed} agreeing results to go)` : ""}`,
  );
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (seconds: number) => {
    if (stopped) return;
    timer = setTimeout(renew, Math.max(1, seconds) * 1000);
    timer.unref?.();
  };
  let lease = first.lease_seconds;
  const renew = async () => {
    try {
      const answer = await join(m);
      lease = answer.lease_seconds;
      schedule(lease / 3);
    } catch (err) {
      log.error(`lease renewal failed: ${err instanceof Error ? err.message : String(err)}`);
      // Unreachable or busy: again soon, while the lease may still run; refused: at the next interval, as the operator may be fixing it.
      schedule(err instanceof JoinError && !err.transient ? lease / 3 : Math.min(5, lease / 3));
    }
  };
  schedule(lease / 3);
  return {
    first,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
