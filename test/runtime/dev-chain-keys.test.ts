import { describe, expect, it } from "vitest";
import { devAccountKeys } from "../../tools/dev-chain/server.ts";
import { DEV_CHAIN_KEYS } from "../../domain/config/dev-credentials.ts";

/** The keys production refuses as CHAIN_SIGNER_KEY are the dev chain's own accounts, derived from its public mnemonic. */
describe("the dev chain's public keys", () => {
  it("are the first 20 accounts of the dev chain's mnemonic", () => {
    expect(DEV_CHAIN_KEYS).toEqual(devAccountKeys(20));
  });
});
