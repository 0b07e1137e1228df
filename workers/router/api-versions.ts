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
