import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { defaultPolicy } from '../domain/policy';
import { emptyWorkflow } from './workflows';
import {
  fmt,
  http,
  machineLines,
  main,
  percentile,
  printSection,
  progress,
  runLoad,
  startApi,
  startBaselineWorker,
  startEcoloopWorker,
  startStack,
  uniqueTaskQueue,
  type LoadResult,
} from './support';

/**
 * Intake: complaints registered per second through the HTTP API (POST /v1/complaints with an
 * Idempotency-Key: a case number from PostgreSQL, the key's row, the workflow start), against the
 * rate at which a bare Temporal client starts an empty workflow on the same server in the same
 * run. Both run with their workers up and at the same concurrency; the phases alternate
 * raw, API, API, raw so that a server slowing down as its database grows weighs on both alike.
 *
 *   npm run bench:intake -- [--concurrency 32] [--count 2000] [--duration 60] [--warmup 100]
 */

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    /** Operations per side (raw and API), split over the two phases of each. */
    count: { type: 'string', default: '2000' },
    /** Seconds per side at most. */
    duration: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '100' },
  },
});
const concurrency = Number(args.concurrency);
const count = Number(args.count);
const durationMs = Number(args.duration) * 1000;
const warmup = Number(args.warmup);

const GOAL = 0.8;

function complaint(i: number) {
  return {
    channel: 'hotline',
    category: (['air', 'water', 'noise', 'dust', 'odour'] as const)[i % 5],
    divisionCode: '370102',
    title: `Bench complaint ${i}`,
    description: 'Black smoke from a chimney every evening since last week.',
    // Spread over Shandong, so the duplicate check runs and rarely links.
    location: { lat: 34.5 + ((i * 0.0137) % 3), lon: 115 + ((i * 0.0211) % 5) },
    reporter: { anonymous: false, name: 'Bench Reporter', phone: '13900000000' },
  };
}

function merge(a: LoadResult, b: LoadResult): LoadResult {
  const completed = a.completed + b.completed;
  const elapsedMs = a.elapsedMs + b.elapsedMs;
  return {
    completed,
    errors: a.errors + b.errors,
    firstError: a.firstError ?? b.firstError,
    elapsedMs,
    latencies: [...a.latencies, ...b.latencies],
    perSecond: (completed / elapsedMs) * 1000,
  };
}

main(async () => {
  progress('starting Temporal, PostgreSQL, workers and the API');
  const stack = await startStack();
  const machine = machineLines(stack);
  const rawQueue = uniqueTaskQueue('bench-raw');
  const ecoQueue = uniqueTaskQueue('bench-intake');
  const baseline = await startBaselineWorker(stack, { taskQueue: rawQueue });
  const worker = await startEcoloopWorker(stack, { taskQueue: ecoQueue });
  const api = await startApi(stack, { taskQueue: ecoQueue, policy: defaultPolicy });
  const run = randomBytes(3).toString('hex');
  let seq = 0;

  const raw = (n: number, ms: number) =>
    runLoad({ concurrency, count: n, durationMs: ms }, () =>
      stack.rawClient.workflow.start(emptyWorkflow, { taskQueue: rawQueue, workflowId: `raw-${run}-${seq++}` }),
    );
  const viaApi = (n: number, ms: number) =>
    runLoad({ concurrency, count: n, durationMs: ms }, () => {
      const i = seq++;
      return http('POST', `${api.baseUrl}/v1/complaints`, api.token, complaint(i), { 'idempotency-key': `bench-${run}-${i}` });
    });

  try {
    progress(`warm-up: ${warmup} of each`);
    await raw(warmup, durationMs);
    await viaApi(warmup, durationMs);

    const half = Math.ceil(count / 2);
    progress(`measuring: ${count} per side, concurrency ${concurrency}, raw / API / API / raw`);
    const raw1 = await raw(half, durationMs / 2);
    const api1 = await viaApi(half, durationMs / 2);
    const api2 = await viaApi(half, durationMs / 2);
    const raw2 = await raw(half, durationMs / 2);
    const r = merge(raw1, raw2);
    const a = merge(api1, api2);
    const ratio = a.perSecond / r.perSecond;

    const row = (name: string, x: LoadResult) =>
      `| ${name} | ${fmt.n(x.completed)} | ${fmt.n(x.perSecond, 1)} | ${fmt.ms(percentile(x.latencies, 50))} | ${fmt.ms(percentile(x.latencies, 99))} | ${x.errors} |`;
    printSection('Intake', 'bench:intake', machine, [
      `Concurrency ${concurrency}; at most ${count} operations or ${durationMs / 1000} s per side, after ${warmup} warm-up operations each.`,
      '',
      '| path | completed | per second | p50 | p99 | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      row('bare Temporal client, empty workflow start', r),
      row('HTTP API, POST /v1/complaints with Idempotency-Key', a),
      '',
      `**Ratio (API / raw): ${ratio.toFixed(2)}** (goal ≥ ${GOAL}: ${ratio >= GOAL ? 'met' : 'not met'})`,
      ...(r.firstError || a.firstError ? ['', `First error: ${a.firstError ?? r.firstError}`] : []),
    ]);
  } finally {
    await api.stop();
    await worker.stop();
    await baseline.stop();
    await stack.stop();
  }
});
