import { createParser } from "eventsource-parser";
import type { MinerTarget } from "../schemas/miner.ts";
import { abortedOr, MinerCallError } from "./miner-error.ts";

/**
 * Reads a miner's server-sent events to their end, whatever protocol it
 * speaks: each event's data parsed as JSON and handed to `onJson`, until the
 * `[DONE]` marker, or `onJson` answering true (an end event of its own), or
 * the body's end. Returns whether the stream said it was done. A body that
 * breaks off is the miner's network failure, unless the call was aborted.
 */
export async function readJsonEvents(target: MinerTarget, response: Response, signal: AbortSignal, onJson: (json: unknown) => boolean | undefined): Promise<boolean> {
  let done = false;
  const parser = createParser({
    onEvent: (event) => {
      const data = event.data.trim();
      if (!data || done) return;
      if (data === "[DONE]") {
        done = true;
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        throw new MinerCallError("invalid_response", `miner ${target.id} streamed an event that is not JSON`);
      }
      if (onJson(json) === true) done = true;
    },
  });
  const body = response.body;
  if (!body) throw new MinerCallError("invalid_response", `miner ${target.id} sent an empty stream`);
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    while (!done) {
      const { value, done: end } = await reader.read();
      if (end) {
        // A last event the miner did not end with a blank line still counts.
        parser.feed(`${decoder.decode()}\n\n`);
        break;
      }
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch (cause) {
    if (cause instanceof MinerCallError) throw cause;
    throw abortedOr(signal, new MinerCallError("network", `miner ${target.id} stream broke`, undefined, { cause }));
  } finally {
    await reader.cancel().catch(() => {});
  }
  return done;
}
