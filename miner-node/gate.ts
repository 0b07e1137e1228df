/**
 * The node's capacity: at most `max` calls at its upstream at once (the
 * `max_concurrency` it announces). A call past it is refused at once (429)
 * rather than queued, so the router tries another miner.
 */
export type Gate = { enter(): (() => void) | undefined; readonly inFlight: number };

export function gate(max: number): Gate {
  let inFlight = 0;
  return {
    enter() {
      if (inFlight >= max) return undefined;
      inFlight++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inFlight--;
      };
    },
    get inFlight() {
      return inFlight;
    },
  };
}
