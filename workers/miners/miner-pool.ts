import type { MinerTarget } from "../schemas/miner";
import { selectMiners, type Preference } from "./select-miners";

/** A miner as the registry offers it for dispatch: where, with what credential, how good and how busy. */
export type MinerCandidate = MinerTarget & { reputation: number; maxConcurrency: number; inFlight: number; latencyMs: number | null };

/**
 * A Session object's cached view of the registry, so that picking miners
 * costs no call to the (global) registry on the hot path. The snapshot is
 * refreshed after `ttlMs`, or at once after a dispatch failed; load is the
 * larger of the registry's last count and this session's own.
 */
export class MinerPool {
  private snapshot: { model: string; at: number; candidates: MinerCandidate[] } | undefined;
  private readonly local = new Map<string, number>();

  constructor(
    private readonly fetchCandidates: (model: string) => Promise<MinerCandidate[]>,
    private readonly ttlMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  async select(model: string, count: number, exclude: readonly string[], preference: Preference = "reputation"): Promise<MinerTarget[]> {
    const snap = this.snapshot;
    const candidates = snap && snap.model === model && this.now() - snap.at < this.ttlMs ? snap.candidates : await this.refresh(model);
    const excluded = new Set(exclude);
    const picked = selectMiners(
      candidates.filter((c) => !excluded.has(c.id)).map((c) => ({ ...c, inFlight: Math.max(c.inFlight, this.local.get(c.id) ?? 0) })),
      count,
      Math.random,
      preference,
    );
    for (const p of picked) this.local.set(p.id, (this.local.get(p.id) ?? 0) + 1);
    return picked.map(({ id, url, credential, offchain, latencyMs }) => ({ id, url, credential, latencyMs, ...(offchain ? { offchain } : {}) }));
  }

  release(minerId: string) {
    const n = (this.local.get(minerId) ?? 0) - 1;
    if (n > 0) this.local.set(minerId, n);
    else this.local.delete(minerId);
  }

  /** Forget the snapshot (a miner failed: its health may have changed). */
  invalidate() {
    this.snapshot = undefined;
  }

  private async refresh(model: string): Promise<MinerCandidate[]> {
    const candidates = await this.fetchCandidates(model);
    this.snapshot = { model, at: this.now(), candidates };
    return candidates;
  }
}
