import { describe, expect, it } from "vitest";
import { findAgreement, majority } from "../domain/consensus/agreement";
import { cosineSimilarity, embeddingSourceFor, lexicalEmbedding, lexicalEmbeddingSource } from "../domain/consensus/embedding";
import { fleet, mulberry32 } from "./helpers";
import { nextReputation, selectMiners } from "../domain/miners/select-miners";

const opts = { threshold: 0.9, embeddings: lexicalEmbeddingSource };

describe("lexical embedding", () => {
  it("is 1 for identical text and low for unrelated text", () => {
    const a = lexicalEmbedding("The router fans each task out to miners.");
    expect(cosineSimilarity(a, lexicalEmbedding("the router fans each task out to miners"))).toBeCloseTo(1, 6);
    expect(cosineSimilarity(a, lexicalEmbedding("Bananas ripen quickly in warm kitchens."))).toBeLessThan(0.3);
  });
});

describe("agreement", () => {
  it("needs a majority", () => {
    expect([1, 2, 3, 4, 5].map(majority)).toEqual([1, 2, 2, 3, 3]);
  });

  it("picks the centre of the largest agreeing group and marks who agreed", async () => {
    const result = await findAgreement(
      [
        { id: "w", text: "purple elephants dance on the moon tonight" },
        { id: "a", text: "Cortensor routes inference work across miner nodes" },
        { id: "b", text: "Cortensor routes inference work across miner nodes" },
      ],
      opts,
    );
    expect(result.winnerId).toBe("a");
    expect(result.agreedIds).toEqual(["a", "b"]);
    expect(result.similarityToWinner["w"]).toBeLessThan(0.5);
  });

  it("breaks ties by arrival order", async () => {
    const result = await findAgreement(
      [
        { id: "first", text: "one answer entirely" },
        { id: "second", text: "something else completely different" },
      ],
      opts,
    );
    expect(result.winnerId).toBe("first");
    expect(result.agreedIds).toEqual(["first"]);
  });
});

describe("miner selection", () => {
  const miners = [
    { id: "good", reputation: 0.9, inFlight: 0, maxConcurrency: 4 },
    { id: "bad", reputation: 0.05, inFlight: 0, maxConcurrency: 4 },
    { id: "full", reputation: 1, inFlight: 4, maxConcurrency: 4 },
  ];

  it("picks distinct miners and never a full one", () => {
    const random = mulberry32(1);
    for (let i = 0; i < 50; i++) {
      const picked = selectMiners(miners, 3, random).map((m) => m.id);
      expect(new Set(picked).size).toBe(picked.length);
      expect(picked).not.toContain("full");
    }
  });

  it("prefers reputation", () => {
    // Seeded, so the count is the same every run (about 0.9 / 0.95 of the picks go to "good").
    const random = mulberry32(42);
    let goodFirst = 0;
    for (let i = 0; i < 400; i++) if (selectMiners(miners, 1, random)[0]!.id === "good") goodFirst++;
    expect(goodFirst).toBeGreaterThan(300);
  });

  it("lowers reputation on disagreement and raises it on agreement", () => {
    expect(nextReputation(0.8, "disagreed")).toBeLessThan(0.8);
    expect(nextReputation(0.8, "agreed")).toBeGreaterThan(0.8);
  });
});

describe("pluggable embedding source", () => {
  it("uses an OpenAI-compatible /v1/embeddings endpoint", async () => {
    const source = embeddingSourceFor({ source: "openai", url: fleet().fastA.url, model: "dev-embedding", apiKey: fleet().fastA.token });
    const [a, b, c] = await source.embed(["miners agree on this", "miners agree on this", "completely other words here"]);
    expect(a).toHaveLength(64);
    expect(cosineSimilarity(a!, b!)).toBeCloseTo(1, 6);
    expect(cosineSimilarity(a!, c!)).toBeLessThan(0.9);
    const agreement = await findAgreement(
      [
        { id: "x", text: "miners agree on this" },
        { id: "y", text: "miners agree on this" },
      ],
      { threshold: 0.9, embeddings: source },
    );
    expect(agreement.agreedIds).toEqual(["x", "y"]);
  });

  it("falls back to lexical embeddings when the endpoint fails", async () => {
    const source = embeddingSourceFor({ source: "openai", url: fleet().fastA.url, model: "dev-embedding", apiKey: "wrong-key" });
    const [v] = await source.embed(["anything"]);
    expect(v).toEqual(lexicalEmbedding("anything"));
  });
});
