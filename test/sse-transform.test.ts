import { describe, expect, it } from "vitest";
import { sseEventTransform } from "../workers/http/sse-transform";

async function run(chunks: string[]): Promise<{ out: string; seen: Record<string, unknown>[]; ended: boolean }> {
  const seen: Record<string, unknown>[] = [];
  let ended = false;
  const encoder = new TextEncoder();
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const transformed = source.pipeThrough(
    sseEventTransform(
      (event) => {
        seen.push(event);
        return { ...event, model: "alias" };
      },
      () => {
        ended = true;
      },
    ),
  );
  return { out: await new Response(transformed).text(), seen, ended };
}

describe("sseEventTransform", () => {
  it("rewrites JSON events split across chunks and CRLF lines, and passes the rest on", async () => {
    const { out, seen, ended } = await run(['data: {"model":"m",', '"n":1}\r\n\r\n: keep-alive\n\ndata: not json\n\n', "data: [DONE]"]);
    expect(seen).toEqual([{ model: "m", n: 1 }]);
    expect(out).toBe('data: {"model":"alias","n":1}\n\n: keep-alive\n\ndata: not json\n\ndata: [DONE]\n\n');
    expect(ended).toBe(true);
  });
});
