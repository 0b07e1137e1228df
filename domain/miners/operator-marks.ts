/** What ties a miner to whoever runs it: its signing address, its payout account, its endpoint. */
export type OperatorFields = { url?: string; address?: string | null; payoutAccount?: string | null };

const endpoints = new Map<string, string>();
const MAX_ENDPOINTS = 1024;

/**
 * A miner's endpoint as one server: host (with a non-default port) and
 * path, lower-cased, trailing slashes dropped. The scheme is left out:
 * http and https of one host are one server. Parsing the URL was most of
 * selecting a task's miners, so each is kept per isolate (cleared when full,
 * so a churning registry cannot grow it).
 */
export function endpointOf(url: string): string {
  const known = endpoints.get(url);
  if (known !== undefined) return known;
  let endpoint: string;
  try {
    const u = new URL(url);
    endpoint = `${u.host}${u.pathname.replace(/\/+$/, "")}`.toLowerCase();
  } catch {
    endpoint = url.toLowerCase();
  }
  if (endpoints.size >= MAX_ENDPOINTS) endpoints.clear();
  endpoints.set(url, endpoint);
  return endpoint;
}

/**
 * The marks two miners of one operator share at least one of. One task
 * gives each mark one slot: redundancy is worth something only when the
 * answers come from different keys, accounts and servers.
 */
export function operatorMarks(m: OperatorFields): string[] {
  const marks: string[] = [];
  if (m.address) marks.push(`address:${m.address.toLowerCase()}`);
  if (m.payoutAccount) marks.push(`payout:${m.payoutAccount}`);
  if (m.url) marks.push(`endpoint:${endpointOf(m.url)}`);
  return marks;
}
