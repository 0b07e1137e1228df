import { describe, expect, it } from "vitest";
import { meteredPromptTokens, meteredTokens, meteredUsage } from "../domain/metering/count-tokens";
import { auditUsage, usageMisreport } from "../domain/metering/usage-audit";
import type { MinerOutput } from "../domain/miners/miner-output";
import type { Slot } from "../domain/protocol/run-task";

const utf8 = (text: string) => new TextEncoder().encode(text).length;

describe("the router's token count", () => {
  it("is the text's UTF-8 length: ASCII, accents, CJK, emoji, a lone surrogate", () => {
    for (const text of ["", "hello world", "naïve café", "東京タワー", "🚀 launch 👩‍💻", "broken \ud800 pair", "end \udc00", "tail \ud83d"]) {
      expect(meteredTokens(text)).toBe(utf8(text));
    }
  });

  it("counts long texts a chunk at a time, never splitting a surrogate pair", () => {
    for (const text of [`${"a".repeat(16_383)}🚀 tail`, `${"é".repeat(40_000)}${"🚀".repeat(20_000)}`, "東".repeat(100_000)]) {
      expect(meteredTokens(text)).toBe(utf8(text));
    }
  });

  it("counts the prompt sent, or each message's role and content", () => {
    expect(meteredPromptTokens({ prompt: "Say hi" })).toBe(6);
    expect(
      meteredPromptTokens({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
      }),
    ).toBe(6 + 9 + 4 + 2);
  });

  it("bounds the completion by max_tokens, and is the same for the same text whoever wrote it", () => {
    const text = "A long enough answer to pass sixteen tokens of bytes.";
    expect(meteredUsage({ prompt: "Q?", max_tokens: 16 }, text)).toEqual({ prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 });
    expect(meteredUsage({ prompt: "Q?" }, text)).toEqual({ prompt_tokens: 2, completion_tokens: utf8(text), total_tokens: 2 + utf8(text) });
    expect(meteredUsage({ prompt: "Q?", max_tokens: 1000 }, "ok")).toEqual({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
  });
});

const request = { prompt: "Tell me a short story about a router." };
const text = "Once upon a time a router counted every byte it was sent.";
const bounds = { prompt: utf8(request.prompt), completion: utf8(text) };

function slot(n: number, reported: MinerOutput["usage"], agreed = true): Slot {
  return {
    slot: n,
    miner: { id: `m${n}`, url: "http://miner.test", credential: "c" },
    state: "precommitted",
    startedAt: 0,
    agreed,
    output: { text, finishReason: "stop", usage: reported, latencyMs: 1 },
  } as Slot;
}

describe("auditing a miner's reported usage", () => {
  it("believes an honest report (a real tokenizer's count is below the bytes) and any under-report", () => {
    expect(usageMisreport(bounds, { prompt_tokens: 9, completion_tokens: 13 })).toBeNull();
    expect(usageMisreport(bounds, { prompt_tokens: 0, completion_tokens: 0 })).toBeNull();
    // Up to twice the router's bound, plus the slack (special tokens, a chat template), is not called a lie.
    expect(usageMisreport(bounds, { prompt_tokens: 2 * utf8(request.prompt) + 64, completion_tokens: 2 * utf8(text) + 16 })).toBeNull();
  });

  it("calls a report beyond twice the router's count (plus slack) a misreport, completion or prompt", () => {
    expect(usageMisreport(bounds, { prompt_tokens: 9, completion_tokens: 2 * utf8(text) + 17 })).toBe(
      `reported ${2 * utf8(text) + 17} completion tokens for a text of ${utf8(text)} bytes`,
    );
    expect(usageMisreport(bounds, { prompt_tokens: 1e12, completion_tokens: 13 })).toBe(`reported 1000000000000 prompt tokens for a prompt of ${utf8(request.prompt)} bytes`);
  });

  it("compares an agreeing miner with the others' lower median, only when at least two others reported", () => {
    expect(usageMisreport(bounds, { prompt_tokens: 9, completion_tokens: 50 }, [13, 14])).toMatch(/agreeing miners' median is 13/);
    // One peer alone cannot frame a miner.
    expect(usageMisreport(bounds, { prompt_tokens: 9, completion_tokens: 50 }, [13])).toBeNull();
    const slots = [
      slot(0, { prompt_tokens: 9, completion_tokens: 13 }),
      slot(1, { prompt_tokens: 9, completion_tokens: 14 }),
      slot(2, { prompt_tokens: 1e12, completion_tokens: 1e12 }),
    ];
    auditUsage(request, slots);
    expect(slots.map((s) => s.usageMisreport ?? null)).toEqual([null, null, expect.stringMatching(/^reported 1000000000000 completion tokens/)]);
  });

  it("judges no slot without a report, and only the slots asked (a late result alone)", () => {
    const slots = [slot(0, null), slot(1, { prompt_tokens: 9, completion_tokens: 1e12 }), slot(2, { prompt_tokens: 9, completion_tokens: 1e12 }, false)];
    auditUsage(request, slots, [slots[2]!]);
    expect(slots.map((s) => s.usageMisreport ?? null)).toEqual([null, null, expect.stringMatching(/completion tokens/)]);
  });
});
