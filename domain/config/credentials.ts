import { DEV_ADMIN_TOKEN, DEV_CREDENTIAL_KEY, DEV_PAYLOAD_MASTER_KEY, DEV_ROUTER_SIGNER_KEY, DEV_ROUTER_TOKEN } from "./dev-credentials.ts";
import { list, type SectionContext, secret, type VarsOf } from "./var-readers.ts";

/**
 * The router's own credentials (secrets, `wrangler secret put`). Outside production each
 * unset one is its documented dev default; in production an unset one, or a dev default,
 * is a problem.
 */
export const credentialVars = {
  ROUTER_API_KEYS: list,
  ADMIN_API_KEY: secret,
  MINER_CREDENTIAL_KEY: secret,
  PAYLOAD_MASTER_KEY: secret,
  /** secp256k1 private key (0x + 64 hex) the router signs receipts with; its address is the router's id in miner signatures. */
  ROUTER_SIGNER_KEY: secret,
};

export function credentialsSection(e: VarsOf<typeof credentialVars>, { production, problems }: SectionContext) {
  let routerKeys = e.ROUTER_API_KEYS;
  let adminKey = e.ADMIN_API_KEY;
  let credentialKey = e.MINER_CREDENTIAL_KEY;
  let payloadMasterKey = e.PAYLOAD_MASTER_KEY;
  let signerKey = e.ROUTER_SIGNER_KEY;
  if (signerKey && !/^0x[0-9a-fA-F]{64}$/.test(signerKey)) problems.push("ROUTER_SIGNER_KEY must be a 0x-prefixed 32-byte hex private key");
  if (production) {
    if (routerKeys.length === 0) problems.push("ROUTER_API_KEYS secret is not set");
    if (routerKeys.includes(DEV_ROUTER_TOKEN)) problems.push("ROUTER_API_KEYS contains the dev token");
    if (!adminKey) problems.push("ADMIN_API_KEY secret is not set");
    if (adminKey === DEV_ADMIN_TOKEN || adminKey === DEV_ROUTER_TOKEN) problems.push("ADMIN_API_KEY is a dev token");
    if (credentialKey.length < 32) problems.push("MINER_CREDENTIAL_KEY secret is missing or shorter than 32 characters");
    if (credentialKey === DEV_CREDENTIAL_KEY) problems.push("MINER_CREDENTIAL_KEY is the dev key");
    if (payloadMasterKey.length < 32) problems.push("PAYLOAD_MASTER_KEY secret is missing or shorter than 32 characters");
    if (payloadMasterKey === DEV_PAYLOAD_MASTER_KEY) problems.push("PAYLOAD_MASTER_KEY is the dev key");
    if (!signerKey) problems.push("ROUTER_SIGNER_KEY secret is not set");
    if (signerKey.toLowerCase() === DEV_ROUTER_SIGNER_KEY) problems.push("ROUTER_SIGNER_KEY is the dev key");
  } else {
    if (routerKeys.length === 0) routerKeys = [DEV_ROUTER_TOKEN];
    adminKey ||= DEV_ADMIN_TOKEN;
    credentialKey ||= DEV_CREDENTIAL_KEY;
    payloadMasterKey ||= DEV_PAYLOAD_MASTER_KEY;
    signerKey ||= DEV_ROUTER_SIGNER_KEY;
  }
  return {
    payloadMasterKey,
    /** The router's receipt signing key (ROUTER_SIGNER_KEY; the dev key outside production). */
    signerKey: (/^0x[0-9a-fA-F]{64}$/.test(signerKey) ? signerKey : DEV_ROUTER_SIGNER_KEY) as `0x${string}`,
    routerKeys,
    adminKey,
    credentialKey,
  };
}
