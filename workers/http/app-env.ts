import type { Env } from "../env";

/** Hono generics for this app: bindings only, no per-request variables yet. */
export type AppEnv = { Bindings: Env };
