/**
 * `npm run bench:worker-side`: the CPU the Worker's side of a completion costs,
 * in two trees, alternating. Each tree's scripts/bench/worker-side/entry.ts is
 * built with wrangler against that tree's source (`WORKER_SIDE_BASE`, a commit,
 * is unpacked under .bench/ with `git archive`; the other is this working tree),
 * run on its own workerd (Miniflare), and asked for N completions in one request
 * a round; workerd's CPU for the round (from /proc) divided by N is the figure.
 * No HTTP, SQLite or miner: only what the Worker does (entry.ts says what).
 * In-process and in CPU time, it tells apart changes of tens of µs that
 * `bench:compare`'s whole tasks cannot on a shared machine.
 *
 * Env: WORKER_SIDE_BASE (a commit; by default where this branch left main), WORKER_SIDE_ROUNDS (8),
 * WORKER_SIDE_N (completions a round, 3000), WORKER_SIDE_MODE (app | rpc | request).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { resolve } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { cpuMs, workerdBelow } from "./cpu.ts";
import { table } from "./report.ts";

/** By default where this branch left main: the change measured is this branch's own. */
const BASE = process.env["WORKER_SIDE_BASE"] ?? execFileSync("git", ["merge-base", "HEAD", "main"]).toString().trim().slice(0, 12);
const ROUNDS = Number(process.env["WORKER_SIDE_ROUNDS"] ?? 8);
const N = Number(process.env["WORKER_SIDE_N"] ?? 3000);
const MODE = process.env["WORKER_SIDE_MODE"] ?? "app";
const ENTRY = "scripts/bench/worker-side/entry.ts";
const OUT = resolve(".bench/worker-side");

/** Builds a tree's entry with its own wrangler configuration; returns the bundle's path. */
function build(tree: string, outdir: string): string {
  execFileSync(process.execPath, [resolve("node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir, ENTRY], { cwd: tree, stdio: "ignore" });
  return `${outdir}/entry.js`;
}

const baseTree = `${OUT}/base-src`;
rmSync(OUT, { recursive: true, force: true });
mkdirSync(baseTree, { recursive: true });
execFileSync("sh", ["-c", `git archive ${BASE} | tar -x -C ${baseTree}`]);
symlinkSync(resolve("node_modules"), `${baseTree}/node_modules`);
// The entry as this tree has it, so both builds run the same loop.
mkdirSync(`${baseTree}/scripts/bench/worker-side`, { recursive: true });
cpSync(ENTRY, `${baseTree}/${ENTRY}`);
if (!existsSync(`${baseTree}/static`) && existsSync("static")) cpSync("static", `${baseTree}/static`, { recursive: true });
const builds = [
  { name: `base (${BASE})`, script: build(baseTree, `${OUT}/base`) },
  { name: "this tree", script: build(process.cwd(), `${OUT}/this`) },
];
// The unpacked tree (with its link to node_modules) is not left inside the repository for anything to walk.
rmSync(baseTree, { recursive: true, force: true });

const runtimes: Miniflare[] = [];
try {
  for (const b of builds) {
    const mf = new Miniflare(
      convertV4MiniflareOptions({
        modules: true,
        scriptPath: b.script,
        compatibilityDate: "2026-11-01",
        durableObjects: { SESSIONS: "SessionObject", MINERS: "MinerRegistry" },
        bindings: { ENVIRONMENT: "development" },
        r2Buckets: { PAYLOADS: "worker-side" },
      }),
    );
    await mf.ready;
    runtimes.push(mf);
  }
  const pids = workerdBelow(process.pid);
  const ask = async (mf: Miniflare, n: number) => Number(await (await mf.dispatchFetch(`http://bench.local/?n=${n}&mode=${MODE}`)).text());
  // Warm each until its JIT settles: a round's worth, twice.
  for (const mf of runtimes) for (let i = 0; i < 2; i++) if ((await ask(mf, N)) !== N) throw new Error("a completion did not answer 200");
  const each: number[][] = builds.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so that whatever else the machine does falls on both.
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const before = cpuMs(pids);
      await ask(runtimes[i] as Miniflare, N);
      each[i]?.push(((cpuMs(pids) - before) / N) * 1000);
    }
    console.error(`round ${round + 1}: ${builds.map((b, i) => `${b.name} ${each[i]?.at(-1)?.toFixed(1)} µs`).join(", ")}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  console.log(`\nthe Worker's side of POST /api/v1/completions/{id} (mode ${MODE}), workerd CPU a completion, ${ROUNDS} rounds of ${N}\n`);
  console.log(
    table(
      ["build", "median µs", "rounds"],
      builds.map((b, i) => [b.name, median(each[i] ?? []).toFixed(1), (each[i] ?? []).map((x) => x.toFixed(0)).join(" / ")]),
    ),
  );
  const wins = (each[1] ?? []).filter((x, r) => x < (each[0]?.[r] ?? 0)).length;
  console.log(`\nthis tree − base: ${(median(each[1] ?? []) - median(each[0] ?? [])).toFixed(1)} µs; lower in ${wins} of ${ROUNDS} rounds`);
} finally {
  for (const mf of runtimes) await mf.dispose();
}
