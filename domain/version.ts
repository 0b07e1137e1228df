/** This router's version, as /api/v1/about, the Agent Card, MCP and the OpenAPI document report it. */
export const ROUTER_VERSION = "0.1.0";
