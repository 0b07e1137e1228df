import type { RouterConfig } from "../../domain/config/config";
import { ApiError } from "../../domain/errors";

/** The replica tier a v3 request asks for: `replicas`, else `consensus.replicas`, else 1. */
export function requestedReplicas(body: { replicas?: 1 | 3 | 5 | undefined; consensus?: { replicas?: 1 | 3 | 5 | undefined } | undefined }): 1 | 3 | 5 {
  return body.replicas ?? body.consensus?.replicas ?? 1;
}

/** The predefined session of a replica tier, or the `missing_v3_session_pool` error. */
export function poolSession(config: RouterConfig, replicas: 1 | 3 | 5): number {
  const id = config.v3Pools[`${replicas}`];
  if (id === undefined) {
    throw new ApiError(400, "missing_v3_session_pool", `no v3 session pool is configured for ${replicas} replica(s)`, {
      replicas,
      configured: Object.keys(config.v3Pools).map(Number),
    });
  }
  return id;
}
