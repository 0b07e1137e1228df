/** Keys the test configuration runs with (see vitest.config.ts). Test-only values. */
export const TEST_ROUTER_KEY = "test-router-key";
export const TEST_ADMIN_KEY = "test-admin-key";
export const TEST_CREDENTIAL_KEY = "test-only-credential-key-0123456789abcdef";
export const TEST_PAYLOAD_MASTER_KEY = "test-only-payload-master-key-0123456789abcdef";
/** keccak256 of "cortensor test-only router signer key". */
export const TEST_ROUTER_SIGNER_KEY = "0xa3f6c7f30bc0dd3a6bb776cd5bddb4d3d516220bcfc06e4beabc34fe0cd0ff7d";
