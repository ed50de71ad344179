import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createPool } from '../db/pool';
import { developmentKeyRing, encryptingDataConverter } from '../runtime/encryption';
import { developmentReporterKeyRing } from '../runtime/reporter-seal';
import { createWorker } from '../worker/worker';
import { buildWorkflowBundle } from '../worker/workflow-bundle';
import { fmt, machineLines, main, printSection, progress } from './output';
import { startStack, uniqueTaskQueue } from './stack';

/**
 * Worker start-up: how long `Worker.create` takes, and the worker process's peak memory, when it
 * bundles `workflows/` itself at start (what worker/main.ts did) and when it loads the bundle
 * `npm run build:workflows` prebuilt. Each start is a fresh process.
 *
 *   npm run bench:worker-start -- [--runs 3]
 */

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    // Internal: one start in this process.
    child: { type: 'string' },
    address: { type: 'string' },
    database: { type: 'string' },
    bundle: { type: 'string' },
  },
});

async function childStart(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: args.address! });
  const pool = createPool(args.database!, { max: 2 });
  const keyRing = developmentKeyRing();
  const t0 = performance.now();
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue: uniqueTaskQueue('bench-start'),
    pool,
    activityDeps: { reporterKeys: developmentReporterKeyRing() },
    dataConverter: encryptingDataConverter(keyRing),
    workflowBundle: args.bundle ? { codePath: args.bundle } : undefined,
  });
  const createMs = performance.now() - t0;
  // Run briefly, so that the workflow code is loaded into the worker threads too.
  await worker.runUntil(new Promise((r) => setTimeout(r, 2_000)));
  const usage = process.resourceUsage();
  process.stdout.write(
    `${JSON.stringify({ createMs, maxRssBytes: usage.maxRSS * 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 })}\n`,
  );
  await pool.end();
  await connection.close();
}

if (args.child) {
  main(childStart);
} else {
  main(async () => {
    const runs = Number(args.runs);
    progress('starting Temporal and PostgreSQL');
    const stack = await startStack();
    const bundle = path.join(os.tmpdir(), `ecoloop-bench-prebuilt-${process.pid}.js`);
    try {
      const buildStarted = performance.now();
      await buildWorkflowBundle(bundle);
      const buildMs = performance.now() - buildStarted;
      type Start = { createMs: number; maxRssBytes: number; cpuMs: number };
      const start = (prebuilt: boolean): Start => {
        const out = execFileSync(
          process.execPath,
          [
            '--import',
            'tsx',
            __filename,
            '--child',
            '1',
            '--address',
            stack.temporalAddress,
            '--database',
            stack.databaseUrl,
            ...(prebuilt ? ['--bundle', bundle] : []),
          ],
          { encoding: 'utf8' },
        );
        return JSON.parse(out.trim().split('\n').pop()!) as Start;
      };
      const rows: string[] = [];
      for (const prebuilt of [false, true]) {
        const results: Start[] = [];
        for (let i = 0; i < runs; i++) {
          progress(`${prebuilt ? 'prebuilt bundle' : 'bundling at start'}: run ${i + 1} of ${runs}`);
          results.push(start(prebuilt));
        }
        const mean = (f: (r: Start) => number) => results.reduce((s, r) => s + f(r), 0) / results.length;
        rows.push(
          `| ${prebuilt ? 'prebuilt bundle (dist/workflow-bundle.js)' : 'bundles workflows/ at start'} | ${fmt.n(mean((r) => r.createMs))} ms | ${fmt.n(mean((r) => r.cpuMs))} ms | ${fmt.mib(mean((r) => r.maxRssBytes))} |`,
        );
      }
      printSection('Worker start-up', 'bench:worker-start', machineLines(stack), [
        `Mean of ${runs} fresh worker processes each. Building the bundle once (\`npm run build:workflows\`) took ${fmt.n(buildMs / 1000, 1)} s and wrote ${fmt.n(fs.statSync(bundle).size / 1024)} KiB.`,
        '',
        '| worker | Worker.create | process CPU (create + 2 s running) | peak RSS |',
        '| --- | ---: | ---: | ---: |',
        ...rows,
      ]);
    } finally {
      fs.rmSync(bundle, { force: true });
      await stack.stop();
    }
  });
}
