/**
 * CPU time of the workerd processes below a runtime's supervisor, read from
 * /proc/<pid>/stat (utime + stime, in clock ticks). Sampled before and after a
 * scenario; the difference divided by the tasks is the CPU per task. Linux only:
 * elsewhere it reports nothing rather than a wrong figure.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

type Stat = { pid: number; ppid: number; comm: string; ticks: number; systemTicks: number };

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is in parentheses and may hold spaces; the fields after it are space-separated.
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    // After comm: state(0) ppid(1) ... utime(11) stime(12).
    return { pid, ppid: Number(fields[1]), comm, ticks: Number(fields[11]) + Number(fields[12]), systemTicks: Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** The workerd processes anywhere below `root`. */
export function workerdBelow(root: number): number[] {
  let stats: Stat[];
  try {
    stats = readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map((name) => readStat(Number(name)))
      .filter((s): s is Stat => s !== undefined);
  } catch {
    return [];
  }
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const found: number[] = [];
  const queue = [root];
  for (let guard = 0; queue.length > 0 && guard < 10_000; guard++) {
    const pid = queue.shift() ?? -1;
    for (const child of children.get(pid) ?? []) {
      if (child.comm === "workerd") found.push(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

/** CPU milliseconds used so far by the given processes (those gone count 0). */
export function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (readStat(pid)?.ticks ?? 0), 0) * (1000 / TICKS_PER_SECOND);
}

/** The same, and of it the time in the kernel (system time: writes, syncs). */
export function cpuSplitMs(pids: number[]): { total: number; system: number } {
  const stats = pids.map(readStat);
  const ms = 1000 / TICKS_PER_SECOND;
  return { total: stats.reduce((sum, s) => sum + (s?.ticks ?? 0), 0) * ms, system: stats.reduce((sum, s) => sum + (s?.systemTicks ?? 0), 0) * ms };
}

/** The whole machine's CPU ticks so far (busy and all), from /proc/stat: is the CPU saturated? */
export function machineTicks(): { busy: number; total: number } {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    // idle (3) and iowait (4) are not busy.
    return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Cores busy on the whole machine between two samples. */
export const machineCoresBusy = (before: { busy: number; total: number }, after: { busy: number; total: number }, cores: number) =>
  after.total > before.total ? ((after.busy - before.busy) / (after.total - before.total)) * cores : Number.NaN;
