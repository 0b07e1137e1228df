import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { registrationProof } from "../tools/dev-miner/sign.ts";

/**
 * Provisions miners and sessions through the admin API, idempotently: an
 * existing miner is pointed at the given URL, an existing session gets the
 * given settings. A miner with a `signer_key` is registered under its
 * address, proven by signing a fresh challenge of the router each time.
 */
export type MinerSpec = {
  id: string;
  url: string;
  credential: string;
  models: string[];
  max_concurrency?: number;
  offchain?: boolean;
  protocol?: "openai" | "neuroshard";
  /** The gateway customer its rewards are credited to (it must exist). */
  payout_account?: string;
  /** The key the miner signs its results with: it is registered under its address, with the proof. */
  signer_key?: Hex;
};
export type SessionSpec = {
  id: number;
  name: string;
  model: string;
  redundancy: number;
  max_nodes?: number;
  shards?: number;
  signatures?: "off" | "prefer" | "require";
  commit_policy?: "quorum" | "all";
};

export async function provision(options: { origin: string; adminKey: string; miners: MinerSpec[]; sessions: SessionSpec[] }) {
  const send = async (method: string, path: string, body: unknown) => {
    const res = await fetch(options.origin + path, {
      method,
      headers: { authorization: `Bearer ${options.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const upsert = async (createPath: string, updatePath: string, create: Record<string, unknown>, update: Record<string, unknown>) => {
    const created = await send("POST", createPath, create);
    if (created.status === 201) return;
    if (created.status !== 409) throw new Error(`POST ${createPath}: ${created.status} ${created.text}`);
    const updated = await send("PATCH", updatePath, update);
    if (updated.status !== 200) throw new Error(`PATCH ${updatePath}: ${updated.status} ${updated.text}`);
  };

  /** `evm_address` and a fresh `address_proof` for a miner's key (none without one). */
  const proven = async (key: Hex | undefined, url: string) => {
    if (!key) return {};
    const evm_address = privateKeyToAccount(key).address;
    const challenge = await send("POST", "/api/v1/admin/miners/challenge", { url, evm_address });
    if (challenge.status !== 201) throw new Error(`POST /api/v1/admin/miners/challenge: ${challenge.status} ${challenge.text}`);
    return { evm_address, address_proof: await registrationProof(key, JSON.parse(challenge.text) as { nonce: string; message: string }) };
  };
  for (const { id, signer_key, ...fields } of options.miners) {
    const update = { max_concurrency: 16, ...fields };
    const created = await send("POST", "/api/v1/admin/miners", { id, name: id, ...update, ...(await proven(signer_key, fields.url)) });
    if (created.status === 201) continue;
    if (created.status !== 409) throw new Error(`POST /api/v1/admin/miners: ${created.status} ${created.text}`);
    // A challenge is answered once: the update signs a new one.
    const updated = await send("PATCH", `/api/v1/admin/miners/${id}`, { ...update, ...(await proven(signer_key, fields.url)) });
    if (updated.status !== 200) throw new Error(`PATCH /api/v1/admin/miners/${id}: ${updated.status} ${updated.text}`);
  }
  for (const { id, ...fields } of options.sessions) {
    await upsert("/api/v1/admin/sessions", `/api/v1/admin/sessions/${id}`, { id, ...fields }, { ...fields, active: true });
  }
}
