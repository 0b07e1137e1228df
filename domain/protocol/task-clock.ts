/**
 * The deadlines of the tasks one Session object runs, on one timer.
 *
 * A task has two deadlines (its precommit deadline, its deadline) and
 * nearly every task ends long before either: a timer of its own cost it a
 * `setTimeout` and a `clearTimeout` (each the runtime's Node-style timer
 * object and the native timer beneath it). Here the timer is set for the
 * earliest deadline waiting; a task whose deadline comes after it (every
 * task started while others run, under the same timeouts) sets none, and one
 * that ends while others still wait clears none. So tasks that overlap share
 * one timer, set again only when the deadline it was set for passes. With
 * nothing left waiting the timer is cleared, as a task's own timer was: a
 * timer pending keeps an idle object from being evicted.
 *
 * What is due when the timer fires is taken before any of it runs, in the
 * order of the deadlines (the earlier set first on a tie); what those calls
 * set for then or earlier comes on a later timer, as with a timer of its
 * own.
 */
export class TaskClock {
  /** Waiting calls in the order they are due. */
  private readonly waiting: { at: number; call: () => void }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer set fires; +∞ with none set. */
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  /** Calls `call` at `at` (epoch ms; at once, on a timer, if that has passed). Returns what cancels it. */
  at(at: number, call: () => void): () => void {
    const entry = { at, call };
    let i = this.waiting.length;
    while (i > 0 && (this.waiting[i - 1]?.at ?? at) > at) i--;
    this.waiting.splice(i, 0, entry);
    if (at < this.timerAt) this.arm(at);
    return () => {
      const j = this.waiting.indexOf(entry);
      if (j < 0) return;
      this.waiting.splice(j, 1);
      if (this.waiting.length === 0) this.disarm();
    };
  }

  private arm(at: number) {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
  }

  private disarm() {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private fire() {
    const reached = Math.max(this.timerAt, this.now());
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    let due = 0;
    while (due < this.waiting.length && (this.waiting[due]?.at ?? reached) <= reached) due++;
    const calls = this.waiting.splice(0, due);
    const next = this.waiting[0];
    if (next) this.arm(next.at);
    for (const { call } of calls) {
      try {
        call();
      } catch (err) {
        // Each call fails alone, as its own timer's callback would (reported as uncaught).
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
