import type { MinerTarget } from "../schemas/miner.ts";
import { abortedOr, MinerCallError } from "./miner-error.ts";

/**
 * The most a miner's answer may weigh. 32 768 tokens of text are about
 * 130 KB; a body past this is refused, not read, so a byzantine miner cannot
 * exhaust the Worker's memory nor a Session row (SQLite rows stop at 2 MB).
 */
export const MAX_MINER_RESPONSE_BYTES = 1_048_576;

export const tooLarge = (target: MinerTarget) => new MinerCallError("invalid_response", `miner ${target.id} sent a response larger than ${MAX_MINER_RESPONSE_BYTES} bytes`);

/**
 * A body as text, read only up to the limit. Not itself async: a declared
 * length within the limit is the runtime's own read, with no promise of ours
 * around it (every task reads one body).
 */
export function readLimited(target: MinerTarget, response: Response): Promise<string> {
  const length = response.headers.get("content-length");
  if (length === null) return readChunks(target, response);
  if (Number(length) > MAX_MINER_RESPONSE_BYTES) return refuse(target, response);
  // One native read: the runtime stops at the declared length, and a null body reads as "". It leaves `response.body`
  // alone, whose stream object the runtime makes when it is first read.
  return response.text();
}

async function refuse(target: MinerTarget, response: Response): Promise<never> {
  await response.body?.cancel();
  throw tooLarge(target);
}

/** A body of no declared length, chunk by chunk, refused once past the limit. */
async function readChunks(target: MinerTarget, response: Response): Promise<string> {
  const body = response.body;
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > MAX_MINER_RESPONSE_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge(target);
    }
    text += decoder.decode(value, { stream: true });
  }
}

const endpoints = new Map<string, Map<string, string>>();
const MAX_ENDPOINTS = 1024;

/**
 * Joins a path onto a miner base URL that may itself carry a path prefix, as
 * the URL's text (what `fetch` takes). Parsing its URLs cost about 3 % of a
 * task's CPU, so each join is kept per isolate; the map is cleared when full,
 * so a churning registry cannot grow it.
 */
export function minerEndpoint(base: string, path: string): string {
  let paths = endpoints.get(base);
  const known = paths?.get(path);
  if (known !== undefined) return known;
  const url = new URL(base);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  const joined = new URL(path.replace(/^\//, ""), url).href;
  if (!paths) {
    if (endpoints.size >= MAX_ENDPOINTS) endpoints.clear();
    paths = new Map();
    endpoints.set(base, paths);
  }
  paths.set(path, joined);
  return joined;
}

/**
 * POSTs a JSON body to a miner's path with its bearer credential. A network
 * failure (or the call's own timeout or cancellation) and a non-2xx status
 * are `MinerCallError`s; the body of a refusal is not read.
 */
export async function postToMiner(
  target: MinerTarget,
  path: string,
  body: unknown,
  options: { signal: AbortSignal; headers?: Record<string, string>; fetcher?: typeof fetch },
): Promise<Response> {
  const fetcher = options.fetcher ?? fetch;
  let response: Response;
  try {
    response = await fetcher(minerEndpoint(target.url, path), {
      method: "POST",
      headers: { ...options.headers, "content-type": "application/json", authorization: `Bearer ${target.credential}` },
      body: JSON.stringify(body),
      signal: options.signal,
    });
  } catch (cause) {
    throw abortedOr(options.signal, new MinerCallError("network", `miner ${target.id} unreachable`, undefined, { cause }));
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new MinerCallError("http", `miner ${target.id} answered ${response.status}`, response.status);
  }
  return response;
}

/** A miner's answer as JSON, read only up to the limit; a body cut off or not JSON is the miner's failure. */
export async function readJsonBody(target: MinerTarget, response: Response, signal: AbortSignal): Promise<unknown> {
  let raw: string;
  try {
    raw = await readLimited(target, response);
  } catch (cause) {
    if (cause instanceof MinerCallError) throw cause;
    throw abortedOr(signal, new MinerCallError("network", `miner ${target.id} body broke off`, undefined, { cause }));
  }
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new MinerCallError("invalid_response", `miner ${target.id} sent a body that is not JSON`, undefined, { cause });
  }
}
