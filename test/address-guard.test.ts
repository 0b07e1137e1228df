import { describe, expect, it } from "vitest";
import { blockedHostReason, isPrivateHost } from "../domain/net/address-guard";

/** As the guard sees hosts from URLs: through the runtime's WHATWG URL parser. */
const hostOf = (url: string) => new URL(url).hostname;

describe("address guard", () => {
  it("refuses local, private and reserved hosts in every URL form", () => {
    for (const url of [
      "http://localhost/",
      "http://LOCALHOST./",
      "http://api.localhost/",
      "http://printer.local/",
      "http://db.internal/",
      "http://metadata.google.internal/",
      "http://metadata/",
      "http://router.home.arpa/",
      "http://127.0.0.1:8080/",
      "http://127.0.0.1./",
      "http://2130706433/", // decimal
      "http://0177.0.0.1/", // octal
      "http://0x7f.1/", // hex, short
      "http://0x7f000001/",
      "http://127.1/", // short
      "http://%31%32%37.0.0.1/", // percent-encoded
      "http://0/", // 0.0.0.0
      "http://0.0.0.0/",
      "http://10.1.2.3/",
      "http://172.16.0.1/",
      "http://172.31.255.255/",
      "http://192.168.1.1/",
      "http://169.254.169.254/latest/meta-data/",
      "http://100.64.0.1/", // carrier-grade NAT
      "http://192.0.0.8/",
      "http://192.0.2.1/", // documentation
      "http://198.18.0.1/", // benchmarking
      "http://203.0.113.9/",
      "http://224.0.0.1/", // multicast
      "http://240.0.0.1/",
      "http://255.255.255.255/",
      "http://[::]/",
      "http://[::1]/",
      "http://[0:0:0:0:0:0:0:1]/",
      "http://[fe80::1]/",
      "http://[fc00::1]/",
      "http://[fd12:3456::1]/",
      "http://[fec0::1]/", // old site-local
      "http://[ff02::1]/",
      "http://[::ffff:127.0.0.1]/", // IPv4-mapped
      "http://[::ffff:7f00:1]/",
      "http://[::ffff:8.8.8.8]/", // mapped, even when public: reach it by its IPv4 address
      "http://[::127.0.0.1]/", // IPv4-compatible
      "http://[64:ff9b::7f00:1]/", // NAT64
      "http://[2002:7f00:1::]/", // 6to4
      "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", // Teredo
      "http://[2001:db8::1]/",
    ]) {
      expect(blockedHostReason(hostOf(url)), url).not.toBeNull();
    }
  });

  it("refuses raw addresses as DNS or a non-special URL may give them", () => {
    for (const host of [
      "127.0.0.1",
      "2130706433",
      "0177.0.0.1",
      "0x7f.0.0.1",
      "127.1",
      "999.1.1.1",
      "1.2.3",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.0.0.1",
      "fe80::1%eth0",
      "::ffff:zzzz",
      "",
    ]) {
      expect(isPrivateHost(host), host).toBe(true);
    }
    expect(isPrivateHost(hostOf("foo://2130706433/"))).toBe(true);
  });

  it("lets public hosts through", () => {
    for (const url of [
      "https://example.com/",
      "https://api.openai.com/v1",
      "http://8.8.8.8/",
      "http://1.1.1.1:8080/",
      "http://172.32.0.1/",
      "http://100.128.0.1/",
      "http://[2606:4700:4700::1111]/",
      "https://localhost.example.com/",
      "https://internal.example.com/",
      "https://10.example.com/",
    ]) {
      expect(blockedHostReason(hostOf(url)), url).toBeNull();
    }
    expect(isPrivateHost("2606:4700:4700::1111")).toBe(false);
    expect(isPrivateHost("93.184.215.14")).toBe(false);
  });
});
