/**
 * Turns a V8 sampling CPU profile (the DevTools Protocol's Profiler.Profile)
 * into CPU time per request by part of the router's path. Each sample's time
 * goes to the innermost frame that names a part (a project module, a library,
 * SQLite, garbage collection), so a native such as JSON.parse counts for the
 * code that called it.
 */
export type Frame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
export type CpuProfile = {
  nodes: { id: number; callFrame: Frame; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
};
/** A frame mapped back to its source: `source` is a repository path (workers/..., node_modules/...) or undefined for natives. */
export type Mapped = { name: string; source: string | undefined; line: number | undefined };

const RULES: [RegExp, string][] = [
  [/^durable-objects\/sqlite-object\.ts/, "SQLite (sql template, exec)"],
  [/^workers\/crypto\//, "hashing and crypto"],
  [/^workers\/consensus\//, "consensus (similarity, agreement)"],
  [/^workers\/miners\//, "miner call (fetch, parse)"],
  [/^workers\/protocol\//, "protocol engine (run-task, completion)"],
  [/^durable-objects\/session\//, "Session object (task store, outcome)"],
  [/^durable-objects\//, "other Durable Objects"],
  [/^workers\/sessions\//, "session client (the Durable Object call)"],
  [/^workers\/gateway\//, "gateway"],
  [/^node_modules\/(zod|@hono\/zod-openapi|@asteasolutions\/zod-to-openapi)\//, "validation (zod)"],
  [/^node_modules\/hono\//, "routing and middleware (Hono)"],
];

/** The part a mapped frame belongs to, or undefined for a frame that names none (a native, a bundler helper). */
export function categoryOf(frame: { name: string; source?: string | undefined }): string | undefined {
  if (frame.source === undefined) {
    if (frame.name === "(garbage collector)") return "garbage collection";
    if (frame.name === "(program)") return "runtime, outside JavaScript";
    if (frame.name === "(idle)") return "(idle)";
    return undefined;
  }
  for (const [pattern, name] of RULES) if (pattern.test(frame.source)) return name;
  const lib = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(frame.source);
  if (lib) return `library: ${lib[1]}`;
  const dir = /^workers\/([^/]+)\//.exec(frame.source);
  if (dir) return `Worker: workers/${dir[1]}`;
  return `other: ${frame.source}`;
}

export type Summary = {
  wallMs: number;
  busyMs: number;
  /** Time in gaps between samples past GAP_LIMIT intervals, charged to no frame. */
  unsampledMs: number;
  perRequestMs: number;
  categories: { name: string; perRequestMs: number; share: number }[];
  functions: { name: string; source: string | undefined; where: string; perRequestMs: number; share: number }[];
};

/** How many sampling intervals one sample may stand for. */
const GAP_LIMIT = 4;

const medianOf = (xs: number[]) => {
  const sorted = xs.filter((x) => x > 0).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

export function summarise(profile: CpuProfile, map: (f: Frame) => Mapped, requests: number): Summary {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const mapped = new Map(profile.nodes.map((n) => [n.id, map(n.callFrame)]));

  // The part of each node: its own, else its nearest caller's.
  const partCache = new Map<number, string>();
  const partOf = (id: number): string => {
    const cached = partCache.get(id);
    if (cached) return cached;
    const own = categoryOf(mapped.get(id) ?? { name: "", source: undefined });
    const up = parent.get(id);
    const part = own ?? (up === undefined || byId.get(up)?.callFrame.functionName === "(root)" ? "runtime natives, no project frame" : partOf(up));
    partCache.set(id, part);
    return part;
  };

  // timeDeltas[i + 1] is the time from sample i to the next. A gap far longer than the sampling
  // interval is time the profiler did not see (the thread outside V8, or not scheduled on a busy
  // machine), not time spent in the frame it saw last: charged whole, such gaps made the native
  // `Response` constructor look like 12–17 % of a task (its samples were followed by 6.5 ms gaps on
  // average, against about 0.4 ms for SQLite's `exec`). Each sample counts for at most
  // GAP_LIMIT intervals; the rest of a gap is "not sampled".
  const interval = medianOf(profile.timeDeltas.slice(1));
  const limit = GAP_LIMIT * interval;
  const self = new Map<number, number>();
  let unsampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? 0;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + Math.min(delta, limit));
    unsampled += Math.max(0, delta - limit);
  }

  const parts = new Map<string, number>();
  const functions = new Map<string, { name: string; source: string | undefined; where: string; us: number }>();
  let busy = 0;
  for (const [id, us] of self) {
    const part = partOf(id);
    if (part === "(idle)") continue;
    busy += us;
    parts.set(part, (parts.get(part) ?? 0) + us);
    const m = mapped.get(id);
    if (!m) continue;
    const where = m.source ? `${m.source}:${m.line ?? "?"}` : "(native)";
    const key = `${m.name}@${where}`;
    const f = functions.get(key) ?? { name: m.name, source: m.source, where, us: 0 };
    f.us += us;
    functions.set(key, f);
  }
  const perRequest = (us: number) => us / 1000 / Math.max(1, requests);
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busy / 1000,
    unsampledMs: unsampled / 1000,
    perRequestMs: perRequest(busy),
    categories: [...parts].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, perRequestMs: perRequest(us), share: us / Math.max(1, busy) })),
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .map((f) => ({ name: f.name, source: f.source, where: f.where, perRequestMs: perRequest(f.us), share: f.us / Math.max(1, busy) })),
  };
}
