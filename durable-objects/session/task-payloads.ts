import type { z } from "zod";
import { decodeBase64, encodeBase64 } from "hono/utils/encode";
import { loadConfig } from "../../domain/config/config";
import { decryptPayload, encryptPayload, taskKey } from "../../domain/crypto/payload-keys";
import type { Vars } from "../../domain/config/config";
import { ApiError } from "../../domain/errors";
import { payloadBackends } from "../../domain/payloads/backends";
import { getPayload, mayExceed, objectKeyFor, payloadTooLarge, putPayload, type StoredPayload } from "../../domain/payloads/payload-store";
import type { Backend } from "../../domain/payloads/backends";
import type { Sql } from "../sqlite-object";

export type SessionRef = { id: number; private: boolean };

/**
 * A task's prompt and result keys, chosen ahead with their retention rows
 * (`reserveKeys`): what it writes to R2 under them already has a row that
 * expires it, so no write of a row waits for the R2 write, and a task lost
 * at any point leaves nothing in R2 for ever.
 */
export type ReservedKeys = { prompt: string; result: string; backend: number; expiresAt: number };

/** How many of a shard's next task ids one reservation of keys covers: one statement for that many v2/v3 tasks. */
export const KEY_BLOCK = 32;
/**
 * How long reserved keys stay usable: a task takes them only if its deadline comes within this of their reservation.
 * Their rows expire the retention period after that (`expiresAt`), so a task's payloads never expire before the
 * retention period after its deadline, even if nothing ends it (a crash).
 */
export const KEY_WINDOW_MS = 60 * 60 * 1000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SEALED = "enc:v1:";

type Stored = { object_key: string; backend: number };

/**
 * A Session object's off-chain payloads: writes them to R2 (ciphertext only
 * for private sessions), reads them back, keeps the retention table and
 * seals what the object itself stores about private tasks.
 */
export class TaskPayloads {
  /** Keys reserved for task ids this instance has not given out yet (`reserveKeys`). */
  private readonly reserved = new Map<number, ReservedKeys>();

  constructor(
    private readonly env: Vars,
    private readonly sql: Sql,
    private readonly now: () => number = Date.now,
  ) {}

  private get config() {
    return loadConfig(this.env);
  }

  /** The task's key for a private session; undefined for a public one. */
  key(session: SessionRef, taskId: number): Promise<Uint8Array> | undefined {
    return session.private ? taskKey(this.config.payloadMasterKey, session.id, taskId) : undefined;
  }

  checkSize(text: string) {
    const max = this.config.maxPayloadBytes;
    if (mayExceed(text, max)) throw payloadTooLarge(max);
  }

  /** The retention period after `at`: when the payloads of a task ending (or due to end) then expire. */
  expiryFrom(at: number): number {
    return at + this.config.payloadRetentionS * 1000;
  }

  /**
   * Writes a payload to R2, then its retention row, its expiry unset until its task ends (`expireTask`): an off-chain
   * delivery's, whose key no reservation covers (`reserveKeys`).
   */
  async store(session: SessionRef, taskId: number, version: "v2" | "v3", role: string, text: string): Promise<StoredPayload> {
    const stored = await this.put(session, taskId, version, role, text, this.writeBackend());
    this.sql`INSERT INTO payloads (object_key, backend, task_id, expires_at) VALUES (${stored.objectKey}, ${stored.backendIndex}, ${taskId}, NULL)`;
    return stored;
  }

  /** Writes a task's prompt or result to R2 under its reserved key (`reserveKeys`): its row is already written, none is now. */
  async storeReserved(session: SessionRef, taskId: number, version: "v2" | "v3", role: "prompt" | "result", text: string, keys: ReservedKeys): Promise<StoredPayload> {
    const backend = payloadBackends(this.env).find((b) => b.index === keys.backend);
    if (!backend) throw new ApiError(503, "payload_store_unavailable", `payload backend ${keys.backend} is no longer configured`);
    return this.put(session, taskId, version, role, text, backend, keys[role]);
  }

  /**
   * A v2/v3 task's prompt and result keys, with their rows written (and durable: `written`) before either is used. Taken from a block reserved by an earlier task when its window still covers this
   * task's deadline; otherwise this call reserves the keys of this id and of the shard's next ones (`next`), up to
   * `KEY_BLOCK` ids, in one statement, each row expiring `expiresAt` (the window, then the retention period, after now).
   * So most tasks write no row before their R2 writes, and their end only sets the rows' expiry (`expireTask`).
   * `written`: this call wrote the rows; the caller waits for them to be durable before its R2 write.
   * Unused keys (ids that went to v1 tasks, or were lost in a restart) expire with their rows; the sweep's delete of
   * an object never written is a no-op.
   */
  reserveKeys(session: SessionRef, taskId: number, deadline: number, next: (id: number) => number): { keys: ReservedKeys; written: boolean } {
    const retention = this.config.payloadRetentionS * 1000;
    const ready = this.reserved.get(taskId);
    this.reserved.delete(taskId);
    if (ready && ready.expiresAt >= deadline + retention) return { keys: ready, written: false };
    const backend = this.writeBackend().index;
    const expiresAt = Math.max(this.now() + KEY_WINDOW_MS, deadline) + retention;
    // A new block replaces what is left of the last (its rows expire unused).
    this.reserved.clear();
    const keysOf = (id: number): ReservedKeys => ({ prompt: objectKeyFor(session.id, id, "prompt"), result: objectKeyFor(session.id, id, "result"), backend, expiresAt });
    const mine = keysOf(taskId);
    const rows: [string, number][] = [
      [mine.prompt, taskId],
      [mine.result, taskId],
    ];
    for (let i = 1, id = next(taskId); i < KEY_BLOCK; i++, id = next(id)) {
      const keys = keysOf(id);
      rows.push([keys.prompt, id], [keys.result, id]);
      this.reserved.set(id, keys);
    }
    this.sql`INSERT INTO payloads (object_key, backend, task_id, expires_at)
             SELECT json_extract(value, '$[0]'), ${backend}, json_extract(value, '$[1]'), ${expiresAt} FROM json_each(${JSON.stringify(rows)})`;
    return { keys: mine, written: true };
  }

  private writeBackend(): Backend {
    const backends = payloadBackends(this.env);
    const backend = backends.find((b) => b.index === this.config.payloadWriteBackend) ?? backends[0];
    if (!backend) throw new ApiError(503, "payload_store_unavailable", "no payload backend is configured");
    return backend;
  }

  private async put(session: SessionRef, taskId: number, version: "v2" | "v3", role: string, text: string, backend: Backend, objectKey?: string): Promise<StoredPayload> {
    const key = await this.key(session, taskId);
    return putPayload(backend, {
      version,
      sessionId: session.id,
      taskId,
      role,
      text,
      maxBytes: this.config.maxPayloadBytes,
      ...(key ? { key } : {}),
      ...(objectKey ? { objectKey } : {}),
    });
  }

  async read(session: SessionRef, taskId: number, urn: string): Promise<string> {
    const key = await this.key(session, taskId);
    return getPayload(payloadBackends(this.env), urn, key);
  }

  /**
   * Payloads of an ended task expire after the configured retention: every row of the task, its reserved keys' (used
   * or not) and the off-chain deliveries' made while it ran, in one statement. Answers when they expire.
   */
  expireTask(taskId: number, now: number): number {
    const expiresAt = this.expiryFrom(now);
    this.sql`UPDATE payloads SET expires_at = ${expiresAt} WHERE task_id = ${taskId}`;
    return expiresAt;
  }

  /**
   * Deletes a discarded task's payloads now (its prompt, stored before dispatch). `keys`: its reserved keys, which no
   * miner or client saw: their objects are deleted, their rows kept, and the keys go back with its id (task-ids.ts
   * `giveBack`) to the task that takes it next, so that a run of tasks no miner can take reserves no block each.
   */
  async discardTask(taskId: number, keys?: ReservedKeys | null) {
    const rows = this.sql<Stored>`SELECT object_key, backend FROM payloads WHERE task_id = ${taskId}`;
    if (!keys) {
      await this.remove(rows);
      return;
    }
    const kept = new Set([keys.prompt, keys.result]);
    await this.deleteObjects(rows);
    for (const r of rows) if (!kept.has(r.object_key)) this.sql`DELETE FROM payloads WHERE object_key = ${r.object_key}`;
    this.reserved.set(taskId, keys);
  }

  nextExpiry(): number | null {
    return this.sql<{ at: number | null }>`SELECT MIN(expires_at) AS at FROM payloads WHERE expires_at IS NOT NULL`[0]?.at ?? null;
  }

  /** Deletes expired payloads from R2, then forgets them. */
  async sweep(now: number): Promise<number> {
    return this.remove(this.sql<Stored>`SELECT object_key, backend FROM payloads WHERE expires_at <= ${now} LIMIT 500`);
  }

  private async remove(due: Stored[]): Promise<number> {
    if (due.length === 0) return 0;
    await this.deleteObjects(due);
    for (const d of due) this.sql`DELETE FROM payloads WHERE object_key = ${d.object_key}`;
    return due.length;
  }

  private async deleteObjects(due: readonly Stored[]) {
    for (const b of payloadBackends(this.env)) {
      const keys = due.filter((d) => d.backend === b.index).map((d) => d.object_key);
      if (keys.length > 0) await b.r2.delete(keys);
    }
  }

  /** JSON as the object stores it: sealed with the task key for a private session, the JSON itself for a public one. */
  async seal(session: SessionRef, taskId: number, value: unknown): Promise<string> {
    const json = JSON.stringify(value);
    return session.private ? this.sealWithKey(session, taskId, json) : json;
  }

  private async sealWithKey(session: SessionRef, taskId: number, json: string): Promise<string> {
    const key = await taskKey(this.config.payloadMasterKey, session.id, taskId);
    return SEALED + encodeBase64((await encryptPayload(key, encoder.encode(json), `s${session.id}/t${taskId}/record`)).buffer);
  }

  /** What `seal` stored, opened and checked against the schema it was written with. */
  async unseal<T>(session: SessionRef, taskId: number, stored: string, schema: z.ZodType<T>): Promise<T> {
    if (!stored.startsWith(SEALED)) return schema.parse(JSON.parse(stored));
    const key = await taskKey(this.config.payloadMasterKey, session.id, taskId);
    return schema.parse(JSON.parse(decoder.decode(await decryptPayload(key, decodeBase64(stored.slice(SEALED.length)), `s${session.id}/t${taskId}/record`))));
  }
}
