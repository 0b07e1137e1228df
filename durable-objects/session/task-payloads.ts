import type { z } from "zod";
import { decodeBase64, encodeBase64 } from "hono/utils/encode";
import { loadConfig } from "../../domain/config/config";
import { decryptPayload, encryptPayload, taskKey } from "../../domain/crypto/payload-keys";
import type { Vars } from "../../domain/config/config";
import { ApiError } from "../../domain/errors";
import { payloadBackends } from "../../domain/payloads/backends";
import { getPayload, mayExceed, payloadTooLarge, putPayload, type StoredPayload } from "../../domain/payloads/payload-store";
import type { Sql } from "../sqlite-object";

export type SessionRef = { id: number; private: boolean };

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
  constructor(
    private readonly env: Vars,
    private readonly sql: Sql,
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

  /** When a payload stored with `expiresFrom` expires: the retention period after it. */
  expiryFrom(at: number): number {
    return at + this.config.payloadRetentionS * 1000;
  }

  /**
   * Writes a payload to R2 and its retention row. `expiresFrom`: the row's
   * expiry is set now, the retention period after it (a task recorded only
   * with its outcome, whose end may never be recorded); null: set when the
   * task ends (`expireTask`).
   */
  async store(session: SessionRef, taskId: number, version: "v2" | "v3", role: string, text: string, expiresFrom: number | null = null): Promise<StoredPayload> {
    const backends = payloadBackends(this.env);
    const backend = backends.find((b) => b.index === this.config.payloadWriteBackend) ?? backends[0];
    if (!backend) throw new ApiError(503, "payload_store_unavailable", "no payload backend is configured");
    const key = await this.key(session, taskId);
    const stored = await putPayload(backend, {
      version,
      sessionId: session.id,
      taskId,
      role,
      text,
      maxBytes: this.config.maxPayloadBytes,
      ...(key ? { key } : {}),
    });
    const expiresAt = expiresFrom === null ? null : this.expiryFrom(expiresFrom);
    this.sql`INSERT INTO payloads (object_key, backend, task_id, expires_at) VALUES (${stored.objectKey}, ${stored.backendIndex}, ${taskId}, ${expiresAt})`;
    return stored;
  }

  async read(session: SessionRef, taskId: number, urn: string): Promise<string> {
    const key = await this.key(session, taskId);
    return getPayload(payloadBackends(this.env), urn, key);
  }

  /** Payloads of an ended task expire after the configured retention. */
  expireTask(taskId: number, now: number) {
    this.sql`UPDATE payloads SET expires_at = ${now + this.config.payloadRetentionS * 1000} WHERE task_id = ${taskId} AND expires_at IS NULL`;
  }

  /** Deletes a discarded task's payloads now (its prompt, stored before dispatch). */
  async discardTask(taskId: number) {
    await this.remove(this.sql<Stored>`SELECT object_key, backend FROM payloads WHERE task_id = ${taskId}`);
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
    const backends = payloadBackends(this.env);
    for (const b of backends) {
      const keys = due.filter((d) => d.backend === b.index).map((d) => d.object_key);
      if (keys.length > 0) await b.r2.delete(keys);
    }
    for (const d of due) this.sql`DELETE FROM payloads WHERE object_key = ${d.object_key}`;
    return due.length;
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
