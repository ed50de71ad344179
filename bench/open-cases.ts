import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { registerComplaint } from '../api/registration';
import { TemporalGateway } from '../api/temporal-gateway';
import { defaultPolicy, type Policy } from '../domain/policy';
import { intakeSchema } from '../domain/schemas/case';
import { parsePolicy } from '../domain/schemas/policy';
import { createPool } from '../db/pool';
import { API_DEFAULTS } from '../runtime/config';
import { developmentReporterKeyRing } from '../runtime/reporter-seal';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../worker/worker';
import type { WorkerMemory } from './worker-process';
import { percentile, runLoad, sleep, until } from './load';
import { fmt, machineLines, main, printSection, progress } from './output';
import { startStack, uniqueTaskQueue, type Stack } from './stack';
import { ecoloopWorkflowBundle } from './workers';

/**
 * Open cases: tens of thousands of cases waiting for acceptance, each with its deadline timers
 * pending on the server (the default policy: 15 days). Then a sample of cases with a deadline a
 * minute away: do their warning and their supervision notice still fire on time? Lateness is the
 * moment the event's notification was written (outbox.created_at, i.e. timer fired, workflow task
 * ran, projection committed) minus the moment it was due. Reports the worker's memory (a process
 * of its own, bench/worker-process.ts), the server's SQLite file and the PostgreSQL database.
 *
 *   npm run bench:open-cases -- [--count 20000] [--sample 200] [--deadline 60] [--concurrency 64] [--backlog 500] [--max-cached N]
 */

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    sample: { type: 'string', default: '200' },
    /** Seconds from registration to the sample's acceptance deadline (the warning fires at 80%). */
    deadline: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '64' },
    /** The worker's maxCachedWorkflows (default: worker/worker.ts DEFAULT_MAX_CACHED_WORKFLOWS). */
    'max-cached': { type: 'string' },
    /** Registration waits while more than this many cases are registered but not yet projected. */
    backlog: { type: 'string', default: '500' },
  },
});
const count = Number(args.count);
const sample = Number(args.sample);
const deadlineMs = Number(args.deadline) * 1000;
const concurrency = Number(args.concurrency);
const maxCached = args['max-cached'] === undefined ? undefined : Number(args['max-cached']);
const backlog = Number(args.backlog);

const samplePolicy = parsePolicy({
  version: 'bench-open-cases-sample',
  defaults: { accept: { amount: deadlineMs / 60_000, unit: 'minutes' } },
});

interface BenchWorker {
  child: ChildProcess;
  memory(): Promise<WorkerMemory>;
  stop(): Promise<void>;
}

async function forkWorker(stack: Stack, taskQueue: string): Promise<BenchWorker> {
  const child = fork(path.join(__dirname, 'worker-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_TASK_QUEUE: taskQueue,
      BENCH_WORKFLOW_BUNDLE: (await ecoloopWorkflowBundle()).codePath,
      BENCH_WORKER_OPTIONS: JSON.stringify(maxCached === undefined ? {} : { maxCachedWorkflows: maxCached }),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`unexpected ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code})`)));
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    child,
    memory: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { memory: WorkerMemory }).memory));
        child.send('memory');
      }),
    async stop() {
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function fileSize(file: string | undefined): number | undefined {
  if (!file) return undefined;
  return ['', '-wal', '-shm'].reduce((sum, suffix) => sum + (fs.existsSync(file + suffix) ? fs.statSync(file + suffix).size : 0), 0);
}

main(async () => {
  progress('starting Temporal, PostgreSQL and the worker process');
  const stack = await startStack();
  const machine = machineLines(stack);
  const taskQueue = uniqueTaskQueue('bench-open');
  const worker = await forkWorker(stack, taskQueue);
  const pool = createPool(stack.databaseUrl, { max: 10 });
  const owner = { id: 'bench-clerk', role: 'clerk' as const };
  const temporal = new TemporalGateway(stack.client, API_DEFAULTS.temporalTimeoutMs, taskQueue);
  const register = (policy: Policy, i: number) =>
    registerComplaint(
      { temporal, pool, policy: () => policy, reporterKeys: developmentReporterKeyRing() },
      intakeSchema.parse({
        channel: 'web',
        category: 'water',
        divisionCode: '370102',
        title: `Open case ${i}`,
        description: 'Waste water runs into the river at night.',
        reporter: { anonymous: false, name: 'Bench Reporter', phone: '13900000000' },
      }),
      owner,
    );
  const caseCount = async (where: string, params: unknown[] = []) =>
    Number((await pool.query(`SELECT count(*) AS n FROM cases WHERE ${where}`, params)).rows[0].n);

  try {
    await sleep(2_000);
    const idle = await worker.memory();

    progress(`registering ${count} cases (default policy: acceptance due in 15 days), concurrency ${concurrency}`);
    // At the pace the worker keeps up with: registering far ahead of it only measures a backlog,
    // whose tasks thrash the workflow cache (every evicted case replays its history on its next task).
    let done = 0;
    let projected = 0;
    let counting = true;
    const counter = (async () => {
      while (counting) {
        projected = await caseCount('true');
        await sleep(500);
      }
    })();
    const bulk = await runLoad({ concurrency, count, durationMs: 60 * 60_000 }, async (i) => {
      while (done - projected > backlog) await sleep(100);
      await register(defaultPolicy, i);
      if (++done % 2000 === 0) progress(`  ${done} registered, ${projected} projected`);
    });
    counting = false;
    await counter;
    const caughtUpStarted = performance.now();
    await until(
      'every case pending acceptance in the projection',
      async () => (await caseCount(`status = 'pending_acceptance'`)) >= bulk.completed,
      60 * 60_000,
      2_000,
    );
    const catchUpMs = performance.now() - caughtUpStarted;
    await sleep(5_000);
    const loaded = await worker.memory();
    const sqliteLoaded = fileSize(stack.sqliteFile);
    const pgLoaded = Number((await pool.query(`SELECT pg_database_size(current_database()) AS n`)).rows[0].n);

    progress(`registering ${sample} sample cases whose acceptance is due in ${deadlineMs / 1000} s`);
    const sampleIds: string[] = [];
    await runLoad({ concurrency, count: sample, durationMs: 10 * 60_000 }, async (i) =>
      sampleIds.push((await register(samplePolicy, count + i)).caseId),
    );
    const events = ['deadline_warning', 'supervision_notice'];
    const fired = async () =>
      (
        await pool.query<{ case_id: string; event_type: string; due: string; written: Date }>(
          `SELECT case_id, event_type, min(payload->>'at') AS due, min(created_at) AS written FROM outbox
            WHERE case_id = ANY($1) AND event_type = ANY($2) AND recipient LIKE 'owner:%' GROUP BY case_id, event_type`,
          [sampleIds, events],
        )
      ).rows;
    await until(
      'every sample deadline fired',
      async () => (await fired()).length >= sampleIds.length * events.length,
      deadlineMs + 10 * 60_000,
      1_000,
    );
    const lateness = (type: string) =>
      fired().then((rows) => rows.filter((r) => r.event_type === type).map((r) => r.written.getTime() - Date.parse(r.due)));
    const warningLate = await lateness('deadline_warning');
    const noticeLate = await lateness('supervision_notice');
    const after = await worker.memory();
    const running = await stack.client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`);

    const lateRow = (name: string, v: number[]) =>
      `| ${name} | ${v.length} | ${fmt.ms(percentile(v, 50))} | ${fmt.ms(percentile(v, 99))} | ${fmt.ms(Math.max(...v))} |`;
    const memRow = (when: string, m: WorkerMemory) =>
      `| ${when} | ${fmt.n(m.cachedWorkflows)} | ${fmt.mib(m.rss)} | ${fmt.mib(m.heapUsed)} | ${fmt.mib(m.heapTotal)} | ${fmt.mib(m.external)} |`;
    // Workflows run in the SDK's worker threads, whose heaps process.memoryUsage() does not count
    // apart: what one cached workflow costs is the growth of the whole process over the cache's size.
    const perCached = (m: WorkerMemory) => (m.cachedWorkflows > 0 ? (m.rss - idle.rss) / m.cachedWorkflows : NaN);
    const perCachedLine = (when: string, m: WorkerMemory) =>
      `${when}: ${fmt.n(perCached(m) / 1024 / 1024, 2)} MiB per cached workflow (RSS ${fmt.mib(m.rss)} − idle ${fmt.mib(idle.rss)}, over ${fmt.n(m.cachedWorkflows)} cached workflows).`;
    printSection('Open cases', 'bench:open-cases', machine, [
      `${fmt.n(bulk.completed)} cases registered (${bulk.errors} errors) at ${fmt.n(bulk.perSecond, 1)}/s, concurrency ${concurrency}, at most ${backlog} ahead of the projection; the worker had projected them all ${fmt.n(catchUpMs / 1000, 1)} s after the last registration. ` +
        `${fmt.n(running.count)} workflows open on the task queue at the end. Worker maxCachedWorkflows: ${maxCached ?? DEFAULT_MAX_CACHED_WORKFLOWS}.`,
      '',
      '| worker process memory | cached workflows | RSS | V8 heap used (main thread) | V8 heap total | external |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      memRow('idle, before any case', idle),
      memRow(`${fmt.n(bulk.completed)} cases open`, loaded),
      memRow(`after the sample's deadlines fired`, after),
      '',
      `Memory of one cached workflow: ${perCachedLine('with the cases open', loaded)} ${perCachedLine("After the sample's deadlines", after)}`,
      '',
      `Server storage with ${fmt.n(bulk.completed)} open cases: SQLite ${stack.sqliteFile ? fmt.mib(sqliteLoaded!) : 'n/a (TEMPORAL_ADDRESS)'} (with its WAL; ${stack.sqliteFile ? fmt.n(sqliteLoaded! / bulk.completed / 1024, 1) : 'n/a'} KiB per case), PostgreSQL database ${fmt.mib(pgLoaded)}; at the end SQLite ${stack.sqliteFile ? fmt.mib(fileSize(stack.sqliteFile)!) : 'n/a'}.`,
      '',
      `Deadlines of ${sample} sample cases (acceptance due ${deadlineMs / 1000} s after registration, registered after the ${fmt.n(bulk.completed)}): lateness = notification written − event due.`,
      '',
      '| event | fired | p50 late | p99 late | max late |',
      '| --- | ---: | ---: | ---: | ---: |',
      lateRow('deadline_warning (80% of the period)', warningLate),
      lateRow('supervision_notice (at the deadline)', noticeLate),
    ]);
  } finally {
    await worker.stop();
    await pool.end();
    await stack.stop();
  }
});
