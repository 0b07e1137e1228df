import { adminKey } from "./admin-key";

/** A refusal or failure of the API, with what its error body said. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Both error shapes the API answers with: the router's `{error: {code, message}}` and the gateway envelope's. */
function failureOf(status: number, body: unknown): ApiFailure {
  const b = body as { error?: { code?: string; message?: string } | string; message?: string } | null;
  const error = typeof b?.error === "object" ? b.error : undefined;
  const code = error?.code ?? (typeof b?.error === "string" ? b.error : `http_${status}`);
  const message = error?.message ?? b?.message ?? `the API answered ${status}`;
  return new ApiFailure(status, code, message);
}

/** Listeners told when the API refuses the kept key (it was rotated, or the deployment changed): the app signs out. */
const onRefused = new Set<() => void>();
export const whenKeyRefused = (f: () => void) => {
  onRefused.add(f);
  return () => onRefused.delete(f);
};

/**
 * One call to the deployment's own API (same origin), with the admin key as
 * the bearer token. Every console action is one of these: nothing the API
 * refuses is possible here.
 */
export async function api<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown, key = adminKey.read()): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (key) headers["Authorization"] = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  if (!response.ok) {
    const failure = failureOf(response.status, parsed);
    if (response.status === 401 && key === adminKey.read()) for (const f of onRefused) f();
    throw failure;
  }
  return parsed as T;
}

/** A query string from the defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
