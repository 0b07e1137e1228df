/**
 * Server-sent events, read as they come: each event's data handed on, the
 * `[DONE]` marker as such. The node reads its upstream's streams with this,
 * to pass them on and to know the text it signs.
 */
import { createParser } from "eventsource-parser";

/** Calls `onData` with each event's data (trimmed) until the body ends; an `onData` that throws ends the read. */
export async function readEvents(body: ReadableStream<Uint8Array>, onData: (data: string) => void | Promise<void>): Promise<void> {
  const pending: string[] = [];
  const parser = createParser({
    onEvent: (event) => {
      const data = event.data.trim();
      if (data) pending.push(data);
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      parser.feed(done ? `${decoder.decode()}\n\n` : decoder.decode(value, { stream: true }));
      for (let next = pending.shift(); next !== undefined; next = pending.shift()) await onData(next);
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

const encoder = new TextEncoder();
/** One event, as bytes: `data: <data>\n\n`. */
export const event = (data: string) => encoder.encode(`data: ${data}\n\n`);
