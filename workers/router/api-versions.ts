/**
 * The router API versions a client can call, read from the paths the app
 * actually mounts (`/api/v1/…`, `/api/v2/…`, …), so discovery cannot drift
 * from the route table when a version is added or retired.
 */
export function apiVersionsOf(paths: readonly string[]): string[] {
  const versions = new Set<number>();
  for (const path of paths) {
    const match = /^\/api\/v(\d+)\//.exec(path);
    if (match) versions.add(Number(match[1]));
  }
  return [...versions].sort((a, b) => a - b).map((n) => `v${n}`);
}

let served: readonly string[] = [];

/**
 * The app records its route table here once every route family is mounted
 * (`createApp`); `GET /api/v1/about` reads it. One app per isolate, so one table.
 */
export function recordServedPaths(paths: readonly string[]): void {
  served = apiVersionsOf(paths);
}

export const servedApiVersions = (): readonly string[] => served;
