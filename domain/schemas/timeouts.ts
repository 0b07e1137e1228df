import { z } from "@hono/zod-openapi";

/**
 * The shortest deadlines a task may have. A real miner needs about a second
 * to load a prompt and produce its first tokens and a few more for a useful
 * answer; a deadline below these is one no miner could meet, and a miner
 * must never be judged by a deadline the client made impossible. Every route
 * that takes timeouts (completions, delegate, validate, factcheck, their
 * trial and x402 twins) refuses shorter ones with a 400 naming the field, and
 * `sessions/timeouts.ts` checks the values a task finally runs with.
 */
export const MIN_TIMEOUT_S = 5;
export const MIN_PRECOMMIT_TIMEOUT_S = 2;

const atLeast = (seconds: number) => `must be at least ${seconds} seconds`;
const atLeastMs = (seconds: number) => `must be at least ${seconds * 1000} milliseconds`;

/** A task's timeout, in seconds. */
export const TimeoutSecondsSchema = z.number().min(MIN_TIMEOUT_S, atLeast(MIN_TIMEOUT_S));
/** A task's precommit timeout, in seconds. */
export const PrecommitSecondsSchema = z.number().min(MIN_PRECOMMIT_TIMEOUT_S, atLeast(MIN_PRECOMMIT_TIMEOUT_S));
/** The same in milliseconds (validate, factcheck). */
export const TimeoutMillisSchema = z
  .number()
  .int()
  .min(MIN_TIMEOUT_S * 1000, atLeastMs(MIN_TIMEOUT_S));
export const PrecommitMillisSchema = z
  .number()
  .int()
  .min(MIN_PRECOMMIT_TIMEOUT_S * 1000, atLeastMs(MIN_PRECOMMIT_TIMEOUT_S));
