import type { MinerPin } from "../sessions/types.ts";
import { probationSeats } from "./probation.ts";

/**
 * Chain-named miners: an on-chain hybrid session (or its task) may name the
 * miners that serve it, by address. The router serves such a task with the
 * registered miners holding those addresses where it has them, and says which
 * it could not reach.
 *
 * Where the named miners cannot fill the task (none of them registered and
 * available, or fewer than its redundancy), the session's own miners make up
 * the count, and the task's record says so (`fallback`). Failing the task
 * instead would leave it Queued on chain for good (a failed dispatch is not
 * written back) while the owner's deposit stands; and nothing is misattributed
 * by falling back: the write-back records each result under the address of
 * the miner that signed it, never under a named one. Bans and probation apply
 * as to any pick: a banned or unhealthy miner is no candidate, and a
 * probationary one takes only the task's probation seats.
 */
export type PinNote = {
  source: MinerPin["source"];
  /** The addresses the chain names, lower-case. */
  named: string[];
  /** Named addresses no registered, healthy miner of the session's model holds (not registered, banned, benched, unhealthy or serving another model). */
  unreachable: string[];
  /** Named addresses whose miner is on probation: it takes only the task's probation seats (none at redundancy 1 or 2). */
  on_probation: string[];
  /** The session's own miners make up what the reachable named ones cannot fill (or all of it). */
  fallback: boolean;
};

export const lowerAddresses = (addresses: readonly string[]): string[] => [...new Set(addresses.map((a) => a.toLowerCase()))];

/** What a pin comes to against the candidates the session can pick from (each with its address and probation). */
export function pinNote(pin: MinerPin, candidates: readonly { address?: string | null; probation: boolean }[], redundancy: number): PinNote {
  const named = lowerAddresses(pin.addresses);
  const held = new Map(candidates.flatMap((c) => (c.address ? [[c.address.toLowerCase(), c.probation] as const] : [])));
  const unreachable = named.filter((a) => !held.has(a));
  const onProbation = named.filter((a) => held.get(a) === true);
  const established = named.length - unreachable.length - onProbation.length;
  // What the named can fill: every established one, and probationary ones only in the task's probation seats.
  const fillable = established + Math.min(onProbation.length, probationSeats(redundancy));
  return { source: pin.source, named, unreachable, on_probation: onProbation, fallback: fillable < redundancy };
}
