import type { MinerTarget } from "../schemas/miner.ts";
import type { OperatorFields } from "./operator-marks.ts";
import { NO_PROBATION_LIMIT, type ProbationRoom } from "./probation.ts";
import { selectMiners, type Preference } from "./select-miners.ts";

/** A miner as the registry offers it for dispatch: where, with what credential, how good and how busy, and whether it is on probation. */
export type MinerCandidate = MinerTarget & {
  reputation: number;
  maxConcurrency: number;
  inFlight: number;
  latencyMs: number | null;
  stakeMultiplier: number;
  probation: boolean;
};

type Snapshot = { model: string; at: number; candidates: MinerCandidate[] };

/**
 * A Session object's view of the registry, so that picking miners costs no
 * call to the (global) registry on a task's path. Only a cold pool (no
 * snapshot for the model yet) waits for the registry; a snapshot older than
 * `ttlMs` is still used while a refresh runs in the background (`background`
 * keeps it alive), and a report flush hands in fresh candidates (`accept`).
 * A miner that just failed here is picked only when no other will do, until
 * the next snapshot arrives; when a failure leaves nothing to pick, the
 * registry is read once (it may know a miner this snapshot does not). Load is the larger of the registry's last count
 * and this session's own.
 */
export class MinerPool {
  private snapshot: Snapshot | undefined;
  private refreshing: { model: string; candidates: Promise<MinerCandidate[]> } | undefined;
  private readonly local = new Map<string, number>();
  private readonly suspects = new Set<string>();
  /** Each miner's operator fields as last seen in a snapshot: what a task's replacement is kept apart from. */
  private readonly operators = new Map<string, OperatorFields>();

  private readonly fetchCandidates: (model: string) => Promise<MinerCandidate[]>;
  private readonly background: (work: Promise<unknown>) => void;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(fetchCandidates: (model: string) => Promise<MinerCandidate[]>, background: (work: Promise<unknown>) => void, ttlMs = 2000, now: () => number = Date.now) {
    this.fetchCandidates = fetchCandidates;
    this.background = background;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  /** Whether `select` for this model picks from the snapshot without waiting on the registry (a warm pool, no miner failed here since). */
  ready(model: string): boolean {
    return this.snapshot?.model === model && this.suspects.size === 0;
  }

  /**
   * `room`: what the task leaves for miners on probation (`probation.ts`).
   * `pinned`: lower-case addresses whose miners are picked before any other
   * (chain-named miners, `miner-pin.ts`); the others only make up the count.
   */
  async select(
    model: string,
    count: number,
    exclude: readonly string[],
    preference: Preference = "reputation",
    room: ProbationRoom = NO_PROBATION_LIMIT,
    pinned?: ReadonlySet<string>,
  ): Promise<MinerTarget[]> {
    const snap = this.snapshot;
    let picked: MinerCandidate[];
    if (snap && snap.model === model) {
      if (this.now() - snap.at >= this.ttlMs) this.background(this.refresh(model).catch((err) => console.error("miner snapshot refresh failed", err)));
      picked = this.pick(snap.candidates, count, exclude, preference, room, pinned);
      // Nothing left to pick after a failure here: the registry may know a miner this snapshot does not.
      if (picked.length < count && this.suspects.size > 0) picked = this.pick(await this.refresh(model), count, exclude, preference, room, pinned);
    } else {
      picked = this.pick(await this.refresh(model), count, exclude, preference, room, pinned);
    }
    for (const p of picked) this.local.set(p.id, (this.local.get(p.id) ?? 0) + 1);
    return picked.map(({ id, url, credential, offchain, protocol, latencyMs, address, payoutAccount, probation }) => ({
      id,
      url,
      credential,
      latencyMs,
      address: address ?? null,
      ...(offchain ? { offchain } : {}),
      ...(protocol === "neuroshard" ? { protocol } : {}),
      ...(payoutAccount ? { payoutAccount } : {}),
      ...(probation ? { probation } : {}),
    }));
  }

  /**
   * Picks in tiers, each only to make up what the ones before left: pinned
   * miners, then the others; in each, miners that failed here since the
   * snapshot come last. Operators and probation seats carry across tiers.
   */
  private pick(
    candidates: readonly MinerCandidate[],
    count: number,
    exclude: readonly string[],
    preference: Preference,
    room: ProbationRoom,
    pinned?: ReadonlySet<string>,
  ): MinerCandidate[] {
    const excluded = new Set(exclude);
    // The excluded are the task's miners so far: no pick may share an operator with them, even one gone from the snapshot since.
    const alongside = exclude.flatMap((id) => this.operators.get(id) ?? []);
    // A candidate is copied only where this session's own count of its calls is the larger (selection reads `inFlight`).
    const open = candidates
      .filter((c) => !excluded.has(c.id))
      .map((c) => {
        const mine = this.local.get(c.id) ?? 0;
        return mine > c.inFlight ? { ...c, inFlight: mine } : c;
      });
    const isPinned = (c: MinerCandidate) => pinned !== undefined && c.address != null && pinned.has(c.address.toLowerCase());
    const healthy = (c: MinerCandidate) => !this.suspects.has(c.id);
    const tiers = pinned
      ? [
          (c: MinerCandidate) => isPinned(c) && healthy(c),
          (c: MinerCandidate) => !isPinned(c) && healthy(c),
          (c: MinerCandidate) => isPinned(c) && !healthy(c),
          (c: MinerCandidate) => !isPinned(c) && !healthy(c),
        ]
      : [healthy, (c: MinerCandidate) => !healthy(c)];
    const picked: MinerCandidate[] = [];
    for (const tier of tiers) {
      if (picked.length >= count) break;
      const probationary = picked.filter((p) => p.probation).length;
      const left = { seats: room.seats - probationary, spareEstablished: room.spareEstablished + picked.length - 2 * probationary };
      picked.push(...selectMiners(open.filter(tier), count - picked.length, Math.random, preference, [...alongside, ...picked], left));
    }
    return picked;
  }

  /** The candidates of `model` (the snapshot's, or the registry's when cold): what a task's named miners are looked up in. */
  async candidates(model: string): Promise<readonly MinerCandidate[]> {
    const snap = this.snapshot;
    return snap && snap.model === model ? snap.candidates : await this.refresh(model);
  }

  release(minerId: string) {
    const n = (this.local.get(minerId) ?? 0) - 1;
    if (n > 0) this.local.set(minerId, n);
    else this.local.delete(minerId);
  }

  /** This session's calls in flight per miner, as sent to the registry with each report batch. */
  load(): Record<string, number> {
    return Object.fromEntries(this.local);
  }

  /** A miner failed here: its health may have changed. Avoid it until the next snapshot. */
  suspect(minerId: string) {
    this.suspects.add(minerId);
  }

  /** Fresh candidates from the registry (a report flush returns them). */
  accept(model: string, candidates: MinerCandidate[]) {
    this.snapshot = { model, at: this.now(), candidates };
    for (const c of candidates) this.operators.set(c.id, { url: c.url, address: c.address ?? null, payoutAccount: c.payoutAccount ?? null });
    this.suspects.clear();
  }

  private refresh(model: string): Promise<MinerCandidate[]> {
    // One refresh at a time per model: concurrent tasks of a cold object share it.
    if (this.refreshing?.model === model) return this.refreshing.candidates;
    const refreshing = {
      model,
      candidates: this.fetchCandidates(model)
        .then((candidates) => {
          this.accept(model, candidates);
          return candidates;
        })
        .finally(() => {
          if (this.refreshing === refreshing) this.refreshing = undefined;
        }),
    };
    this.refreshing = refreshing;
    return refreshing.candidates;
  }
}
