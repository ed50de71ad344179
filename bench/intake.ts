import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { emptyWorkflow } from './workflows';
import { http, startApiProcess, type RunningApi } from './api';
import { cpuByRole, cpuPer, type CpuByRole } from './cpu';
import { percentile, runLoad, type LoadResult } from './load';
import { fmt, machineLines, main, printSection, progress } from './output';
import { startStack, uniqueTaskQueue } from './stack';
import { startEcoloopWorker } from './workers';

/**
 * Intake: complaints registered per second through the HTTP API (POST /v1/complaints with an
 * Idempotency-Key: the key's row and the case number in one PostgreSQL statement, then the
 * workflow start; the early-warning watcher is fed later, by the case's first projection in the
 * worker), against the rate at which a bare Temporal client starts an empty workflow on the same
 * server in the same run, at the same concurrency.
 *
 * The API runs as production runs it, `api/server.ts` in a process of its own; this process is the
 * load generator (and the bare client). Two figures:
 *
 * - the intake path: rounds of raw, API, API, raw (so that a server slowing down as its database
 *   grows, or a shared machine's varying load, weighs on both alike), with no EcoLoop worker on
 *   the API's task queue: what a registration itself costs;
 * - the system: the API again, on a second task queue whose EcoLoop worker runs every new case
 *   (intake checks, projection) at the same time, on the same two cores.
 *
 *   npm run bench:intake -- [--concurrency 32] [--count 2000] [--duration 60] [--warmup 100] [--rounds 4] [--locations false]
 */

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    /** Operations per side (raw and API), split over the two phases of each. */
    count: { type: 'string', default: '2000' },
    /** Seconds per side at most. */
    duration: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '100' },
    /** Rounds of raw, API, API, raw: finer interleaving, for a machine whose background load varies. */
    rounds: { type: 'string', default: '4' },
    /** Complaints with a location (the worker's duplicate check and early-warning watcher then run for each); false: none. */
    locations: { type: 'string', default: 'true' },
  },
});
const concurrency = Number(args.concurrency);
const count = Number(args.count);
const durationMs = Number(args.duration) * 1000;
const warmup = Number(args.warmup);
const withLocations = args.locations !== 'false';
const rounds = Number(args.rounds);

const GOAL = 0.8;

function complaint(i: number) {
  return {
    channel: 'hotline',
    category: (['air', 'water', 'noise', 'dust', 'odour'] as const)[i % 5],
    divisionCode: '370102',
    title: `Bench complaint ${i}`,
    description: 'Black smoke from a chimney every evening since last week.',
    // Spread over Shandong, so the duplicate check runs and rarely links.
    ...(withLocations && { location: { lat: 34.5 + ((i * 0.0137) % 3), lon: 115 + ((i * 0.0211) % 5) } }),
    reporter: { anonymous: false, name: 'Bench Reporter', phone: '13900000000' },
  };
}

const empty: LoadResult = { completed: 0, errors: 0, elapsedMs: 0, latencies: [], perSecond: 0 };

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

const cpuRoles = ['bench', 'api', 'temporal', 'postgres', 'other'] as const;
const zeroCpu = (): CpuByRole => ({ bench: 0, api: 0, temporal: 0, postgres: 0, other: 0 });

/**
 * Where the CPU went, per 1,000 operations: on two shared cores, every process's CPU is taken from
 * the others, so the rate ratio also counts the API process and PostgreSQL against the server. The
 * Temporal server's own share shows what a registration costs the server next to a bare start.
 */
function cpuTable(sides: Array<[string, CpuByRole, number]>): string[] {
  if (!cpuByRole()) return [];
  const per = (x: CpuByRole, n: number) => cpuPer(zeroCpu(), x, n)!;
  const [raw, api] = sides.map(([, x, n]) => per(x, n));
  const lines = [
    '',
    'CPU seconds per 1,000 operations, by process (this process is the load generator and the bare client; the worker of the third row runs in it too):',
    '',
    '| path | bench process | API process | Temporal server | PostgreSQL | total |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...sides.map(([name, x, n]) => {
      const c = per(x, n);
      const total = cpuRoles.reduce((sum, role) => sum + c[role], 0);
      return `| ${name} | ${c.bench.toFixed(2)} | ${c.api.toFixed(2)} | ${c.temporal.toFixed(2)} | ${c.postgres.toFixed(2)} | ${total.toFixed(2)} |`;
    }),
  ];
  if (raw.temporal > 0 && api.temporal > 0) {
    lines.push(
      '',
      `**Temporal server CPU, bare start / registration: ${(raw.temporal / api.temporal).toFixed(2)}**: what a registration costs the server itself, next to an empty workflow start.`,
    );
  }
  return lines;
}

main(async () => {
  progress('starting Temporal, PostgreSQL, workers and the API');
  const stack = await startStack();
  const machine = machineLines(stack);
  // The bare starts and the intake path alike: no worker ever polls their queues, so both sides
  // measure starts alone. The system: this one's worker runs each case.
  // Each API in a process of its own, as production runs it (npm run api).
  const intakeApi = await startApiProcess(stack, { taskQueue: uniqueTaskQueue('bench-intake') });
  const systemQueue = uniqueTaskQueue('bench-intake-system');
  const systemApi = await startApiProcess(stack, { taskQueue: systemQueue });
  const worker = await startEcoloopWorker(stack, { taskQueue: systemQueue });
  const run = randomBytes(3).toString('hex');
  const rawQueue = uniqueTaskQueue('bench-raw');
  let seq = 0;

  // CPU seconds spent by each process while each side ran, summed over its phases.
  const cpu = { raw: zeroCpu(), api: zeroCpu(), system: zeroCpu() };
  const measured = async (side: keyof typeof cpu, load: () => Promise<LoadResult>): Promise<LoadResult> => {
    const before = cpuByRole();
    const result = await load();
    const after = cpuByRole();
    if (before && after) for (const role of cpuRoles) cpu[side][role] += after[role] - before[role];
    return result;
  };
  const raw = (n: number, ms: number) =>
    runLoad({ concurrency, count: n, durationMs: ms }, () =>
      stack.rawClient.workflow.start(emptyWorkflow, { taskQueue: rawQueue, workflowId: `raw-${run}-${seq++}` }),
    );
  const viaApi = (api: RunningApi, n: number, ms: number) =>
    runLoad({ concurrency, count: n, durationMs: ms }, () => {
      const i = seq++;
      return http('POST', `${api.baseUrl}/v1/complaints`, api.token, complaint(i), { 'idempotency-key': `bench-${run}-${i}` });
    });

  try {
    progress(`warm-up: ${warmup} of each`);
    await raw(warmup, durationMs);
    await viaApi(intakeApi, warmup, durationMs);
    await viaApi(systemApi, warmup, durationMs);

    const each = Math.ceil(count / (2 * rounds));
    progress(
      `measuring: ${count} per side, concurrency ${concurrency}, ${rounds} rounds of raw / API / API / raw, then API with its worker`,
    );
    let r: LoadResult | undefined;
    let a: LoadResult | undefined;
    const phaseMs = durationMs / (2 * rounds);
    for (let round = 0; round < rounds; round++) {
      const raw1 = await measured('raw', () => raw(each, phaseMs));
      const api1 = await measured('api', () => viaApi(intakeApi, each, phaseMs));
      const api2 = await measured('api', () => viaApi(intakeApi, each, phaseMs));
      const raw2 = await measured('raw', () => raw(each, phaseMs));
      r = [raw1, raw2].reduce((x, y) => merge(x, y), r ?? empty);
      a = [api1, api2].reduce((x, y) => merge(x, y), a ?? empty);
    }
    const system = await measured('system', () => viaApi(systemApi, count, durationMs));
    const ratio = a!.perSecond / r!.perSecond;
    const systemRatio = system.perSecond / r!.perSecond;

    const row = (name: string, x: LoadResult) =>
      `| ${name} | ${fmt.n(x.completed)} | ${fmt.n(x.perSecond, 1)} | ${fmt.ms(percentile(x.latencies, 50))} | ${fmt.ms(percentile(x.latencies, 99))} | ${x.errors} |`;
    printSection('Intake', 'bench:intake', machine, [
      `Concurrency ${concurrency}; at most ${count} operations or ${durationMs / 1000} s per row (the first two rows in ${rounds} rounds of raw, API, API, raw), after ${warmup} warm-up operations each. ${withLocations ? "Complaints carry a location, so the worker's projection of each new case also feeds its grid cell's early-warning watcher (a signal-with-start; the third row)." : 'Complaints carry no location (no duplicate check, no early-warning watcher).'}`,
      '',
      '| path | completed | per second | p50 | p99 | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      row('bare Temporal client, empty workflow start', r!),
      row('HTTP API, POST /v1/complaints with Idempotency-Key (intake path)', a!),
      row('the same, with the EcoLoop worker running every new case', system),
      '',
      `**Ratio, intake path (API / raw): ${ratio.toFixed(2)}** (goal ≥ ${GOAL}: ${ratio >= GOAL ? 'met' : 'not met'}). ` +
        `With the worker processing each case on the same machine: ${systemRatio.toFixed(2)}.`,
      ...(r!.firstError || a!.firstError || system.firstError
        ? ['', `First error: ${a!.firstError ?? system.firstError ?? r!.firstError}`]
        : []),
      ...cpuTable([
        ['bare Temporal client, empty workflow start', cpu.raw, r!.completed],
        ['HTTP API (intake path)', cpu.api, a!.completed],
        ['HTTP API, with the EcoLoop worker', cpu.system, system.completed],
      ]),
    ]);
  } finally {
    await worker.stop();
    await systemApi.stop();
    await intakeApi.stop();
    await stack.stop();
  }
});
