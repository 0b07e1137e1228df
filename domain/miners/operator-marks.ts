/** What ties a miner to whoever runs it: its signing address, its payout account, its endpoint. */
export type OperatorFields = { url?: string; address?: string | null; payoutAccount?: string | null };

/**
 * A miner's endpoint as one server: host (with a non-default port) and
 * path, lower-cased, trailing slashes dropped. The scheme is left out:
 * http and https of one host are one server.
 */
export function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname.replace(/\/+$/, "")}`.toLowerCase();
  } catch {
    return url.toLowerCase();
  }
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
