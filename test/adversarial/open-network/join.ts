import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { sha256Hex } from "../../../domain/crypto/sha256";
import { joinMessage, leaveMessage } from "../../../domain/miners/join-message";
import { devMinerKey, identityKey } from "../../../tools/dev-miner/sign.ts";
import type { FleetName } from "../../setup/global-setup";
import { admin, fetchWorker, fleet, uniq } from "../../helpers";
import { TEST_ROUTER_SIGNER_KEY } from "../../keys";

/** The router under test's id in signed joins: its receipt signer's address. */
export const ROUTER_ADDRESS = privateKeyToAccount(TEST_ROUTER_SIGNER_KEY).address;

export const randomNonce = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** A client IP of the test's own, so that no two tests share a join budget. */
export const freshIp = () => uniq("client-ip");

/**
 * A fleet dev miner under a fresh identity: the key its joins are signed with (and its results, since the
 * dev miner signs a `<token>~<identity>` request with `identityKey`), and the credential the router will present.
 */
export function node(name: FleetName, options: { model?: string } = {}) {
  const m = fleet()[name];
  const identity = uniq(`join-${name}`);
  const key: Hex = identityKey(devMinerKey(name), identity);
  return {
    key,
    address: privateKeyToAccount(key).address,
    url: m.url,
    // The dev miner's NeuroShard surface takes its bare token only (its results are not signed per identity).
    credential: m.protocol === "neuroshard" ? m.token : `${m.token}~${identity}`,
    protocol: m.protocol,
    model: options.model ?? uniq("join-model"),
  };
}
export type Node = ReturnType<typeof node>;

/** A join body as a node sends it, signed by `signer` (the node's key unless a test forges), over `signed` (the body's own fields unless a test tampers). */
export async function joinBody(n: Node, overrides: Record<string, unknown> = {}, options: { signer?: Hex; router?: string; signed?: Record<string, unknown> } = {}) {
  const body = {
    url: n.url,
    evm_address: n.address,
    models: [n.model],
    protocol: n.protocol,
    offchain: false,
    max_concurrency: 8,
    credential: n.credential,
    nonce: randomNonce(),
    issued_at: new Date().toISOString(),
    ...overrides,
  };
  const s = { ...body, ...options.signed };
  const message = joinMessage({
    router: options.router ?? ROUTER_ADDRESS,
    url: s.url as string,
    address: s.evm_address as string,
    models: s.models as string[],
    protocol: s.protocol as "openai" | "neuroshard",
    offchain: s.offchain as boolean,
    maxConcurrency: s.max_concurrency as number,
    credentialSha256: await sha256Hex(s.credential as string),
    nonce: s.nonce as string,
    issuedAt: s.issued_at as string,
  });
  const signature = await privateKeyToAccount(options.signer ?? n.key).signMessage({ message });
  return { ...body, signature };
}

export async function leaveBody(n: Node, overrides: Record<string, unknown> = {}) {
  const body = { evm_address: n.address, nonce: randomNonce(), issued_at: new Date().toISOString(), ...overrides };
  const signature = await privateKeyToAccount(n.key).signMessage({
    message: leaveMessage({ router: ROUTER_ADDRESS, address: body.evm_address, nonce: body.nonce, issuedAt: body.issued_at }),
  });
  return { ...body, signature };
}

/** POSTs to a public miner route (no bearer key) from `ip`, under `vars`. */
export async function post(path: "/api/v1/miners/join" | "/api/v1/miners/leave", body: unknown, options: { ip?: string; vars?: Record<string, string> } = {}) {
  const { response } = await fetchWorker(
    new Request(`http://router.test${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": options.ip ?? freshIp() },
      body: JSON.stringify(body),
    }),
    options.vars,
  );
  return response;
}

export type Joined = { id: string; evm_address: string; lease_expires_at: string; lease_seconds: number; probation: { on_probation: boolean; agreeing_results_needed: number } };
export type ErrorBody = { error: { code: string; message: string; details?: { issues?: { field: string }[] } } };

/** Joins `n` and expects `status` (201 by default); answers the body. */
export async function joinOk(n: Node, options: { ip?: string; vars?: Record<string, string>; status?: number } = {}): Promise<Joined> {
  const res = await post("/api/v1/miners/join", await joinBody(n), options);
  if (res.status !== (options.status ?? 201)) throw new Error(`join: ${res.status} ${await res.text()}`);
  return (await res.json()) as Joined;
}

/**
 * An operator vouches for a joined miner (PATCH `probation: false`): a tests' shortcut past the
 * MINER_PROBATION_RESULTS agreeing results a joined miner otherwise needs before it may serve alone.
 */
export async function establish(id: string): Promise<void> {
  const res = await admin(`/api/v1/admin/miners/${id}`, "PATCH", { probation: false });
  if (res.status !== 200) throw new Error(`establishing ${id}: ${res.status} ${await res.text()}`);
}
