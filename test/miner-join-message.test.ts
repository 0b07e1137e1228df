import { describe, expect, it } from "vitest";
import { joinMessage, leaveMessage } from "../domain/miners/join-message";
import { MinerJoinRequestSchema, MinerLeaveRequestSchema } from "../domain/schemas/miner-join";

/** The texts a miner signs to join and leave, exactly as the shared spec writes them (the router and the miner node build them alike). */
describe("miner join and leave messages", () => {
  it("are the spec's lines, addresses lowercased", () => {
    expect(
      joinMessage({
        router: "0xAbCdEf0000000000000000000000000000000001",
        url: "https://gpu-1.example:9000",
        address: "0x00000000000000000000000000000000000000Ff",
        models: ["Qwen/Qwen2.5-7B-Instruct", "llama3"],
        protocol: "openai",
        offchain: false,
        maxConcurrency: 4,
        credentialSha256: "AB".repeat(32),
        nonce: "0123456789abcdef0123456789abcdef",
        issuedAt: "2026-12-07T08:00:00.000Z",
      }),
    ).toBe(
      [
        "cortensor-router miner join",
        "router: 0xabcdef0000000000000000000000000000000001",
        "url: https://gpu-1.example:9000",
        "address: 0x00000000000000000000000000000000000000ff",
        "models: Qwen/Qwen2.5-7B-Instruct,llama3",
        "protocol: openai",
        "offchain: false",
        "max_concurrency: 4",
        `credential_sha256: ${"ab".repeat(32)}`,
        "nonce: 0123456789abcdef0123456789abcdef",
        "issued_at: 2026-12-07T08:00:00.000Z",
      ].join("\n"),
    );
    expect(
      leaveMessage({
        router: "0xAbCdEf0000000000000000000000000000000001",
        address: "0x00000000000000000000000000000000000000Ff",
        nonce: "f".repeat(32),
        issuedAt: "2026-12-07T08:00:00.000Z",
      }),
    ).toBe(
      [
        "cortensor-router miner leave",
        "router: 0xabcdef0000000000000000000000000000000001",
        "address: 0x00000000000000000000000000000000000000ff",
        `nonce: ${"f".repeat(32)}`,
        "issued_at: 2026-12-07T08:00:00.000Z",
      ].join("\n"),
    );
  });

  it("requests that do not read are refused naming the field", () => {
    const join = {
      url: "http://127.0.0.1:9000",
      evm_address: `0x${"ff".repeat(20)}`,
      models: ["m"],
      protocol: "openai",
      offchain: false,
      max_concurrency: 4,
      credential: "c".repeat(64),
      nonce: "0".repeat(32),
      issued_at: "2026-12-07T08:00:00.000Z",
      signature: `0x${"1".repeat(130)}`,
    };
    expect(MinerJoinRequestSchema.safeParse(join).success).toBe(true);
    const fieldOf = (body: unknown) => MinerJoinRequestSchema.safeParse(body).error?.issues[0]?.path.join(".");
    expect(fieldOf({ ...join, nonce: "0".repeat(31) })).toBe("nonce");
    expect(fieldOf({ ...join, issued_at: "yesterday" })).toBe("issued_at");
    expect(fieldOf({ ...join, url: "ftp://x" })).toBe("url");
    expect(fieldOf({ ...join, signature: "0x12" })).toBe("signature");
    expect(MinerJoinRequestSchema.safeParse({ ...join, id: "pick-my-id" }).success).toBe(false);
    expect(MinerLeaveRequestSchema.safeParse({ evm_address: join.evm_address, nonce: join.nonce, issued_at: join.issued_at, signature: join.signature }).success).toBe(true);
    expect(MinerLeaveRequestSchema.safeParse({ evm_address: "0x12", nonce: join.nonce, issued_at: join.issued_at, signature: join.signature }).error?.issues[0]?.path).toEqual([
      "evm_address",
    ]);
  });
});
