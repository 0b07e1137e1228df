/**
 * Dev-only credentials: the documented defaults of local development. Each is
 * refused in production (config.ts reports it as a problem). This module has
 * no imports, so the Node scripts (npm run dev, bench) can load it as is.
 */

/** Documented dev token of the Cortensor router docs; accepted only outside production. */
export const DEV_ROUTER_TOKEN = "default-dev-token";
/** Dev-only admin key, same rule. */
export const DEV_ADMIN_TOKEN = "default-dev-admin-token";
/** Dev-only key for miner credential encryption, same rule. */
export const DEV_CREDENTIAL_KEY = "dev-only-miner-credential-key-do-not-use-in-production";
/** Documented gateway customer key of local dev; `npm run dev` accepts it, production never does. */
export const DEV_CUSTOMER_ID = "dev";
export const DEV_CUSTOMER_KEY = "csk_dev_cortensor-dev-customer-key-local-only";
/** Dev-only master secret for payload keys and assignment tokens, same rule. */
export const DEV_PAYLOAD_MASTER_KEY = "dev-only-payload-master-key-do-not-use-in-production";
/**
 * Dev-only key the router signs receipts with (keccak256 of "cortensor dev-only router signer key"; public, so
 * anyone can forge with it), same rule.
 */
export const DEV_ROUTER_SIGNER_KEY = "0x51152ab1514ded2af82af1ba861e2c84fda7197c0ac8a728f8a1fd4712ccd0e9";
