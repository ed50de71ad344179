import fs from 'node:fs';

/** CPU seconds (user + system) so far of this process and its descendants, by role. */
export type CpuByRole = Record<'bench' | 'api' | 'temporal' | 'postgres' | 'other', number>;

/**
 * Reads /proc (Linux): this process ("bench": the load generator, bare client, in-process workers),
 * and every descendant, by what it runs: an `api/server.ts` process, the Temporal dev server this
 * run started, the embedded PostgreSQL's processes. Null where /proc is not there. A server given
 * by TEMPORAL_ADDRESS or DATABASE_URL is not a descendant, so its share is not counted.
 */
export function cpuByRole(): CpuByRole | null {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const ticks = 100; // USER_HZ on Linux
  const info = new Map<number, { ppid: number; cpu: number; comm: string; cmdline: string }>();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      info.set(Number(pid), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / ticks, comm, cmdline });
    } catch {
      /* gone meanwhile */
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = info.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const out: CpuByRole = { bench: 0, api: 0, temporal: 0, postgres: 0, other: 0 };
  for (const [pid, p] of info) {
    if (!isDescendant(pid)) continue;
    const role: keyof CpuByRole =
      pid === process.pid
        ? 'bench'
        : p.cmdline.includes('api/server.ts')
          ? 'api'
          : p.comm.startsWith('temporal')
            ? 'temporal'
            : p.comm === 'postgres'
              ? 'postgres'
              : 'other';
    out[role] += p.cpu;
  }
  return out;
}

/** CPU seconds per `per` operations, by role, between two readings. */
export function cpuPer(before: CpuByRole | null, after: CpuByRole | null, operations: number, per = 1000): CpuByRole | null {
  if (!before || !after || operations === 0) return null;
  const k = per / operations;
  return {
    bench: (after.bench - before.bench) * k,
    api: (after.api - before.api) * k,
    temporal: (after.temporal - before.temporal) * k,
    postgres: (after.postgres - before.postgres) * k,
    other: (after.other - before.other) * k,
  };
}
