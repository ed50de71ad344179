/** The load loop of the benchmarks (bounded in count and time) and the arithmetic of its figures. */

export interface LoadResult {
  completed: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  /** Latency of each completed operation, in ms. */
  latencies: number[];
  perSecond: number;
}

/**
 * Run `op(0..count-1)` with `concurrency` operations in flight, until `count` are done or
 * `durationMs` has passed (whichever first): every loop here is bounded in count and time.
 */
export async function runLoad(
  options: { concurrency: number; count: number; durationMs: number },
  op: (i: number) => Promise<unknown>,
): Promise<LoadResult> {
  const started = performance.now();
  const until = started + options.durationMs;
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (next < options.count && performance.now() < until) {
      const i = next++;
      const t0 = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  const elapsedMs = performance.now() - started;
  return { completed: latencies.length, errors, firstError, elapsedMs, latencies, perSecond: (latencies.length / elapsedMs) * 1000 };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` until it is true, at most `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${Math.round(timeoutMs / 1000)} s`);
    await sleep(intervalMs);
  }
}
