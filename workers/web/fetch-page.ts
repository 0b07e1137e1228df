import { z } from "zod";
import { ApiError } from "../../domain/errors";
import { blockedHostReason, isAddressLiteral, isPrivateHost } from "../../domain/net/address-guard";

export type FetchPageOptions = {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects?: number;
  /** Local and test only: `host:port`s exempt from the private-address check (refused in production configuration). */
  allowHosts: readonly string[];
  /** DNS-over-HTTPS endpoint used to check what a host name resolves to; none = host names are refused (IP literals and allowed hosts only). */
  dohUrl?: string | undefined;
  fetcher?: typeof fetch;
};

export type FetchedPage = { url: string; finalUrl: string; contentType: string; bytes: number; truncated: boolean; text: string };

/** A DNS-over-HTTPS JSON answer (RFC 8427 style, as Cloudflare and Google serve it). */
const DohAnswers = z.object({ Answer: z.array(z.object({ type: z.number(), data: z.string() })).optional() });

const refused = (why: string) => new ApiError(400, "web_fetch_refused", `web fetch refused: ${why}`);
const failed = (why: string) => new ApiError(502, "web_fetch_failed", `web fetch failed: ${why}`);

/**
 * Why a host name must not be fetched, from what the resolver answers: any
 * private address among its A and AAAA records, or none at all (the runtime
 * might still resolve it some other way, a hosts file, to anything).
 */
async function resolvedReason(host: string, dohUrl: string, fetcher: typeof fetch, signal: AbortSignal): Promise<string | null> {
  let addresses = 0;
  for (const type of ["A", "AAAA"]) {
    const res = await fetcher(`${dohUrl}?name=${encodeURIComponent(host)}&type=${type}`, { headers: { accept: "application/dns-json" }, signal });
    if (!res.ok) return `could not resolve ${host}`;
    const body = DohAnswers.safeParse(await res.json().catch(() => null));
    if (!body.success) return `could not resolve ${host}`;
    for (const answer of body.data.Answer ?? []) {
      if (answer.type !== 1 && answer.type !== 28) continue;
      addresses++;
      if (isPrivateHost(answer.data)) return `${host} resolves to a private address`;
    }
  }
  return addresses === 0 ? `${host} does not resolve to an address` : null;
}

async function checkUrl(raw: string, options: FetchPageOptions, fetcher: typeof fetch, signal: AbortSignal): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused("not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw refused(`scheme ${url.protocol} is not http(s)`);
  if (url.username || url.password) throw refused("URLs with credentials are not fetched");
  if (options.allowHosts.includes(url.host)) return url;
  const reason = blockedHostReason(url.hostname);
  if (reason) throw refused(reason);
  if (isAddressLiteral(url.hostname)) return url;
  // A name is fetched only once what it resolves to was checked: with no resolver to ask
  // (outside production by default), names are refused, not left to the runtime's resolver.
  if (!options.dohUrl)
    throw refused(
      `${url.hostname} is a host name and no resolver is configured to check its address (WEB_FETCH_DOH_URL; or list the host in WEB_FETCH_ALLOW_HOSTS outside production)`,
    );
  const resolved = await resolvedReason(url.hostname, options.dohUrl, fetcher, signal);
  if (resolved) throw refused(resolved);
  return url;
}

/** Visible text of an HTML document: no scripts, styles or tags, entities decoded, whitespace collapsed. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|noscript|template|svg)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<(br|p|div|li|h[1-6]|tr|section|article)\b[^>]*>/gi, "\n")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, "&")
    .replace(/[ \t\f\v\r]+/g, " ")
    .replace(/\s*\n\s*/g, "\n")
    .trim();
}

/**
 * Fetches a page for a delegated task, guarded against server-side request
 * forgery: http(s) only, no loopback, private, link-local or metadata hosts,
 * no host name whose addresses were not checked (resolved over DoH), every
 * redirect re-checked (followed by hand), a time and a size cap.
 */
export async function fetchPage(raw: string, options: FetchPageOptions): Promise<FetchedPage> {
  const fetcher = options.fetcher ?? fetch;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = await checkUrl(raw, options, fetcher, signal);
  let response: Response;
  for (let hop = 0; ; hop++) {
    try {
      response = await fetcher(url, { redirect: "manual", signal, headers: { accept: "text/html,text/plain;q=0.9,*/*;q=0.1", "user-agent": "cortensor-edge-router" } });
    } catch (err) {
      throw failed(err instanceof Error && err.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : "the host could not be reached");
    }
    if (response.status < 300 || response.status >= 400) break;
    await response.body?.cancel();
    const location = response.headers.get("location");
    if (!location) throw failed(`redirect ${response.status} without a location`);
    if (hop >= (options.maxRedirects ?? 5)) throw failed("too many redirects");
    url = await checkUrl(new URL(location, url).toString(), options, fetcher, signal);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw failed(`the page answered ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length") ?? "0");
  const contentType = response.headers.get("content-type") ?? "application/octet-stream";
  if (!/^text\/|html|xml|json/i.test(contentType)) {
    await response.body?.cancel();
    throw refused(`content type ${contentType} is not text`);
  }
  if (!response.body) throw failed("the page sent no body");
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let truncated = declared > options.maxBytes;
  try {
    while (bytes < options.maxBytes) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.byteLength;
    }
    if (bytes >= options.maxBytes) truncated = true;
  } catch (err) {
    throw failed(err instanceof Error && err.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : "the page stopped mid-way");
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(bytes, options.maxBytes));
  let at = 0;
  for (const c of chunks) {
    const take = Math.min(c.byteLength, all.length - at);
    all.set(c.subarray(0, take), at);
    at += take;
  }
  const body = new TextDecoder().decode(all);
  return {
    url: raw,
    finalUrl: url.toString(),
    contentType,
    bytes: all.length,
    truncated,
    text: /html|xml/i.test(contentType) ? htmlToText(body) : body.trim(),
  };
}
