import type { Failure } from "../../domain/errors";
import { deltaChunk, finalChunk, SSE_DONE, sseEvent, type StreamHead } from "../../domain/sse";
import type { Slot } from "../../domain/protocol/run-task";
import type { Submitted } from "../../domain/sessions/types";

/**
 * A completion streamed as its first miner produces it. Only one slot's text
 * is streamed (the first to speak); when the task is decided the closing
 * chunk carries the consensus record, and says so if the agreed output was
 * not the one streamed. A client that went away never stops the task.
 */
export class LiveStream {
  readonly readable: ReadableStream<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private owner: number | undefined;
  private streamed = "";
  private markFirst: () => void = () => {};
  /** Settles when the first piece of text was written. */
  readonly first = new Promise<void>((resolve) => (this.markFirst = resolve));

  /** The fields every chunk repeats; known once the task has its id. */
  private head: StreamHead | undefined;

  constructor() {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    this.readable = readable;
    this.writer = writable.getWriter();
  }

  open(head: StreamHead) {
    this.head = head;
  }

  get hasText(): boolean {
    return this.streamed !== "";
  }

  /** The protocol engine's `delta` event. */
  readonly delta = (slot: Slot, piece: string) => {
    this.owner ??= slot.slot;
    if (this.owner !== slot.slot || !this.head) return;
    this.write(deltaChunk(this.head, piece, this.streamed === ""));
    this.streamed += piece;
    this.markFirst();
  };

  async end(result: Submitted | Failure): Promise<void> {
    if (result.ok && this.head) {
      const c = result.completion;
      const text = c.choices[0]?.text ?? c.choices[0]?.message?.content ?? "";
      const superseded = {
        code: "stream_superseded",
        message: `the streamed output was not the agreed one; GET /api/v1/tasks/${c.session_id}/${c.task_id} has the agreed completion`,
      };
      this.write(finalChunk(this.head, { ...c, finishReason: c.choices[0]?.finish_reason ?? "stop", ...(text === this.streamed ? {} : { error: superseded }) }));
    } else if (!result.ok) {
      const { ok: _ok, status: _status, ...error } = result;
      this.write(JSON.stringify({ error }));
    }
    this.write(SSE_DONE);
    await this.writer.close().catch(() => {});
  }

  private write(data: string) {
    // Failed writes (the client went away) are dropped.
    void this.writer.write(sseEvent(data)).catch(() => {});
  }
}
