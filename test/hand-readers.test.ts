import { describe, expect, it } from "vitest";
import { isoTime } from "../domain/iso-time";
import { answerBySchema, answerOf } from "../domain/miners/call-miner";

/**
 * The hot path's hand-written readers against what they stand for: a miner's
 * answer read by hand against the zod schemas that define it, and the
 * receipt's time text against `Date.prototype.toISOString`.
 */
describe("a miner's answer read by hand", () => {
  const values: unknown[] = [undefined, null, 0, -1, 1.5, "x", "", [], {}, true];
  const choices: unknown[] = [
    ...values,
    { text: "a" },
    { text: "a", finish_reason: "stop" },
    { text: "", finish_reason: null },
    { text: "a", finish_reason: 3 },
    { text: 3 },
    { text: null },
    { message: { content: "c" } },
    { message: { content: null }, finish_reason: null },
    { message: { content: "c" }, finish_reason: "length" },
    { message: {} },
    { message: [] },
    { message: null },
    { message: { content: 1 } },
    { text: "a", message: { content: "b" }, finish_reason: "stop" },
    [{ text: "a" }],
  ];
  const usages: unknown[] = [
    ...values,
    { prompt_tokens: 1, completion_tokens: 2 },
    { prompt_tokens: 1.7, completion_tokens: 1e300 },
    { prompt_tokens: 0, completion_tokens: -0 },
    { prompt_tokens: -1, completion_tokens: 2 },
    { prompt_tokens: 1 },
    { prompt_tokens: 1, completion_tokens: Number.POSITIVE_INFINITY },
    { prompt_tokens: "1", completion_tokens: 2 },
    [1, 2],
  ];
  const bodies: unknown[] = [...values, JSON.parse('{"choices":[{"text":"a"}],"usage":{"prompt_tokens":1,"completion_tokens":1e400}}')];
  for (const first of choices) {
    for (const second of [undefined, ...choices.slice(10, 20)]) {
      const list = second === undefined ? [first] : [first, second];
      for (const usage of usages) bodies.push({ choices: list, usage }, { choices: list, usage, extra: { x: 1 } });
      bodies.push(list, { choices: [], usage: null }, { choices: { 0: first, length: 1 } });
    }
  }

  it("accepts exactly what the schemas accept and reads what they read, for chat and completions alike", () => {
    let accepted = 0;
    for (const kind of ["chat", "completion"] as const) {
      for (const body of bodies) {
        const schema = answerBySchema(kind, body);
        expect({ body, answer: answerOf(kind, body) }).toEqual({ body, answer: schema });
        if (schema) accepted++;
      }
    }
    // Both verdicts are exercised: bodies taken and bodies refused.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(bodies.length * 2 - 100);
  });
});

describe("isoTime", () => {
  const text = (ms: number) => {
    try {
      return new Date(ms).toISOString();
    } catch (err) {
      return err instanceof RangeError ? "RangeError" : "other";
    }
  };
  const ours = (ms: number) => {
    try {
      return isoTime(ms);
    } catch (err) {
      return err instanceof RangeError ? "RangeError" : "other";
    }
  };

  it("writes what toISOString writes: edges, five- and six-digit years, fractions, and what is not a time", () => {
    const edges = [0, -0, 1, -1, 999, 1000, -999, -1000, -1001, 1.5, -1.5, 0.9, -0.9, 8.64e15, -8.64e15, 8.64e15 + 1, -62_167_219_200_000, -62_167_219_200_001];
    for (const ms of [...edges, 253_402_300_799_999, 253_402_300_800_000, 1_765_000_000_123, Number.NaN, Number.POSITIVE_INFINITY]) expect(ours(ms)).toBe(text(ms));
  });

  it("writes what toISOString writes across seconds in order and out of order", () => {
    const times: number[] = [];
    for (let i = 0; i < 3000; i++) times.push(1_765_000_000_000 + i * 7);
    for (let i = 0; i < 3000; i++) times.push(Math.floor(Math.sin(i) * 3e14));
    for (const ms of times) expect(ours(ms)).toBe(text(ms));
  });
});
