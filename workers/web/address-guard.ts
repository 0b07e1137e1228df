/**
 * Which hosts a server-side fetch must never reach: loopback, private,
 * carrier-grade NAT, link-local (cloud metadata lives there), multicast and
 * reserved ranges, in IPv4, IPv6 and IPv4-mapped IPv6, plus local names.
 */
const BLOCKED_NAMES = [/^localhost$/, /\.localhost$/, /\.local$/, /\.internal$/, /\.home\.arpa$/, /^metadata$/, /^metadata\.google\.internal$/];

function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function blockedV4([a, b]: number[]): boolean {
  return (
    a === 0 || a === 10 || a === 127 || (a === 100 && b! >= 64 && b! <= 127) || (a === 169 && b === 254) ||
    (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168) || (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19)) || a! >= 224
  );
}

function blockedV6(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "::" || h === "::1") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return blockedV4(ipv4(mapped[1]!) ?? [0]);
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(h)) return true;
  const first = parseInt(h.split(":")[0] || "0", 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00 || h.startsWith("64:ff9b:") || h.startsWith("2001:db8:");
}

/** Why this hostname (as in a URL) must not be fetched, or null when it may. */
export function blockedHostReason(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  if (!host) return "empty host";
  if (BLOCKED_NAMES.some((re) => re.test(host))) return `${host} is a local name`;
  const v4 = ipv4(host);
  if (v4) return blockedV4(v4) ? `${host} is a loopback, private, link-local or reserved address` : null;
  if (/^\d+$/.test(host) || /^0x[0-9a-f]+$/i.test(host)) return `${host} is a numeric host`;
  if (host.includes(":")) return blockedV6(host) ? `${host} is a loopback, private, link-local or reserved address` : null;
  return null;
}

/** Same check for a resolved address (from DNS). */
export function blockedAddress(address: string): boolean {
  return blockedHostReason(address) !== null;
}
