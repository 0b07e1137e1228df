import { createParser, type EventSourceMessage } from "eventsource-parser";

const encoder = new TextEncoder();

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function jsonObject(data: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(data);
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** An event written out again; multi-line data keeps one `data:` line per line. */
function serialise(event: EventSourceMessage): string {
  const lines: string[] = [];
  if (event.event !== undefined) lines.push(`event: ${event.event}`);
  if (event.id !== undefined) lines.push(`id: ${event.id}`);
  for (const line of event.data.split("\n")) lines.push(`data: ${line}`);
  return `${lines.join("\n")}\n\n`;
}

/**
 * Reads a server-sent event stream event by event: each `data:` JSON object
 * goes through `map` (which may rewrite it), `[DONE]` and non-JSON data pass
 * unchanged, and `onEnd` runs once the stream has ended.
 */
export function sseEventTransform(map: (event: Record<string, unknown>) => Record<string, unknown>, onEnd: () => void): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let controller: TransformStreamDefaultController<Uint8Array> | undefined;
  const parser = createParser({
    onEvent(event) {
      const object = event.data === "[DONE]" ? null : jsonObject(event.data);
      const out = object ? { ...event, data: JSON.stringify(map(object)) } : event;
      controller?.enqueue(encoder.encode(serialise(out)));
    },
    // Comments are keep-alives: the client should still see them.
    onComment(comment) {
      controller?.enqueue(encoder.encode(`: ${comment}\n\n`));
    },
  });
  return new TransformStream({
    start(c) {
      controller = c;
    },
    transform(chunk) {
      parser.feed(decoder.decode(chunk, { stream: true }));
    },
    flush() {
      // A last event the source did not end with a blank line still counts.
      parser.feed(`${decoder.decode()}\n\n`);
      onEnd();
    },
  });
}
