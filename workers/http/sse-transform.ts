const encoder = new TextEncoder();

/**
 * Reads a server-sent event stream event by event: each `data:` JSON object
 * goes through `map` (which may rewrite it), `[DONE]` and non-JSON data pass
 * unchanged, and `onEnd` runs once the stream has ended.
 */
export function sseEventTransform(
  map: (event: Record<string, unknown>) => Record<string, unknown>,
  onEnd: () => void,
): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let buffer = "";
  const emit = (raw: string, controller: TransformStreamDefaultController<Uint8Array>) => {
    const data = raw
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).trimStart())
      .join("\n");
    if (data && data !== "[DONE]") {
      try {
        const parsed = JSON.parse(data) as unknown;
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(map(parsed as Record<string, unknown>))}\n\n`));
          return;
        }
      } catch {
        // not JSON: passed on as it came
      }
    }
    controller.enqueue(encoder.encode(`${raw}\n\n`));
  };
  return new TransformStream({
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, "\n");
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        emit(buffer.slice(0, cut), controller);
        buffer = buffer.slice(cut + 2);
      }
    },
    flush(controller) {
      if (buffer.trim()) emit(buffer.trim(), controller);
      onEnd();
    },
  });
}
