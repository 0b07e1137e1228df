import { sha256Hex } from "../crypto/sha256.ts";

/**
 * Who submits a task. A client's `request_id` is an idempotency key within
 * its caller's namespace only: a router key, a gateway customer, an x402
 * payer (as its verified payment names it), a trial client (its address as
 * the edge reports it), a chain (an on-chain task of a hybrid session,
 * dispatched by the chain index).
 */
export type Caller = { kind: "key" | "customer" | "x402" | "trial" | "chain"; id: string };

/** Namespaces hashed already, per isolate (a caller sends many tasks); cleared when full, so many callers cannot grow it. */
const namespaces = new Map<string, string>();
const MAX_NAMESPACES = 1024;

/** The caller's namespace: its kind and a hash of its identity (router keys and addresses are never stored). */
export async function namespace(caller: Caller): Promise<string> {
  const identity = `${caller.kind}\n${caller.id}`;
  const known = namespaces.get(identity);
  if (known !== undefined) return known;
  const hashed = `${caller.kind}:${(await sha256Hex(identity)).slice(0, 32)}`;
  if (namespaces.size >= MAX_NAMESPACES) namespaces.clear();
  namespaces.set(identity, hashed);
  return hashed;
}

/**
 * The request id as a session stores it: `{kind}:{hash}:{client id}`. The
 * hash is fixed-length hex and the kind has no ':', so no client id can
 * spell another caller's key.
 */
export async function scopedRequestId(caller: Caller, requestId: string): Promise<string> {
  return `${await namespace(caller)}:${requestId}`;
}

/**
 * The key a task sent without a request id is stored under: the caller's
 * namespace and a random id after `#`, which no client id can spell (ids are
 * letters, digits and `._:-`). It keeps no idempotency; it records whose the
 * task is, so its views show its request and answer to that caller only.
 */
export async function ownerOnlyKey(caller: Caller): Promise<string> {
  return `${await namespace(caller)}:#${crypto.randomUUID()}`;
}

/**
 * The same as a fixed-length id another router accepts as a `request_id`
 * (remote gateway pools, where every customer shares the gateway's key).
 */
export async function opaqueRequestId(caller: Caller, requestId: string): Promise<string> {
  return `ns-${(await sha256Hex(await scopedRequestId(caller, requestId))).slice(0, 48)}`;
}

const SCOPED = /^(key|customer|x402|trial|chain):([0-9a-f]{32}):(.+)$/s;

/** A stored request id read back: the client's own id (null for a task sent without one) and the namespace it lives in (null for ids stored before namespacing). */
export function splitRequestId(stored: string | null): { requestId: string | null; caller: string | null } {
  const match = stored === null ? null : SCOPED.exec(stored);
  if (!match) return { requestId: stored, caller: null };
  const own = match[3] ?? null;
  return { requestId: own?.startsWith("#") ? null : own, caller: `${match[1]}:${match[2]}` };
}
