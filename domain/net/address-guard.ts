/**
 * Which hosts the router must never reach on a client's or miner's say-so
 * (miner URLs, delegated web fetches, what their names resolve to): only
 * plain public unicast addresses pass. Everything else ipaddr.js classifies —
 * private, loopback, link-local (cloud metadata lives there), unique-local,
 * carrier-grade NAT, multicast, reserved, unspecified, broadcast — is refused,
 * and so is every IPv6 form that embeds an IPv4 address (mapped, NAT64,
 * 6to4, Teredo), since the IPv4 address is what would be reached.
 */
import ipaddr from "ipaddr.js";

const LOCAL_NAMES = [/^localhost$/, /\.localhost$/, /\.local$/, /\.internal$/, /\.home\.arpa$/, /^metadata$/];

/** Ranges ipaddr.js calls unicast that were refused before and stay refused. */
const ALSO_REFUSED = [
  // IETF protocol assignments and documentation, refused as a whole /16.
  ipaddr.parseCIDR("192.0.0.0/16"),
  // IPv4-compatible and other reserved IPv6 (::/8).
  ipaddr.parseCIDR("::/8"),
];

/** A host whose last label is a number is an IPv4 address to a URL parser, whatever it looks like. */
const ENDS_IN_NUMBER = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/i;

function addressReason(host: string, address: ipaddr.IPv4 | ipaddr.IPv6): string | null {
  const range = address.range();
  if (address instanceof ipaddr.IPv6 && range === "ipv4Mapped") return `${host} is the IPv4 address ${address.toIPv4Address().toString()}, mapped`;
  if (range !== "unicast") return `${host} is in the ${range} range, not a public address`;
  if (ALSO_REFUSED.some(([net, bits]) => address.kind() === net.kind() && address.match(net, bits))) return `${host} is in a reserved range, not a public address`;
  return null;
}

/** Why this hostname (as in a URL, or an address from DNS) must not be reached, or null when it may. */
export function blockedHostReason(hostname: string): string | null {
  const host = hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  if (!host) return "empty host";
  if (LOCAL_NAMES.some((re) => re.test(host))) return `${host} is a local name`;
  if (ipaddr.IPv6.isValid(host)) return addressReason(host, ipaddr.IPv6.parse(host));
  if (host.includes(":") || host.includes("%")) return `${host} is not a valid host`;
  if (ENDS_IN_NUMBER.test(host)) {
    // The URL parser writes IPv4 hosts as four decimal parts; any other numeric
    // form (2130706433, 0x7f.1, 0177.0.0.1, 127.1, 999.1.1.1) did not come from one.
    if (!ipaddr.IPv4.isValidFourPartDecimal(host)) return `${host} is a numeric host`;
    return addressReason(host, ipaddr.IPv4.parse(host));
  }
  return null;
}

/** Whether a host (URL hostname or resolved address) is loopback, private, link-local, reserved or a local name. */
export const isPrivateHost = (hostname: string): boolean => blockedHostReason(hostname) !== null;

/**
 * Whether a URL hostname is an IP address literal (the URL parser writes
 * every IPv4 form as four decimal parts, IPv6 in brackets), as opposed to a
 * name some resolver would have to turn into an address first.
 */
export const isAddressLiteral = (hostname: string): boolean => hostname.startsWith("[") || ipaddr.IPv4.isValidFourPartDecimal(hostname);
