/**
 * Dev-only credentials: the documented defaults of local development. Each is
 * refused in production (credentials.ts and chain-vars.ts report it as a problem). This module has
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

/**
 * The private keys of the dev chain's accounts (the first 20 of the public mnemonic "test test … junk"
 * that Hardhat and EDR use; tools/dev-chain derives the same, test/config.test.ts checks it): anyone
 * holds them, so CHAIN_SIGNER_KEY may not be one in production.
 */
export const DEV_CHAIN_KEYS: readonly string[] = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
  "0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897",
  "0x701b615bbdfb9de65240bc28bd21bbc0d996645a3dd57e7b12bc2bdf6f192c82",
  "0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1",
  "0x47c99abed3324a2707c28affff1267e45918ec8c3f20b8aa892e8b065d2942dd",
  "0xc526ee95bf44d8fc405a158bb884d9d1238d99f0612e9f33d006bb0789009aaa",
  "0x8166f546bab6da521a8369cab06c5d2b9e46670292d85c875ee9ec20e84ffb61",
  "0xea6c44ac03bff858b476bba40716402b03e41b8e97e276d1baec7c37d42484a0",
  "0x689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd",
  "0xde9be858da4a475276426320d5e9262ecfc3ba460bfac56360bfa6c4c28b4ee0",
  "0xdf57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e",
];
