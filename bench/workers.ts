import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createPool, type Pool } from '../db/pool';
import { createWorker } from '../worker/worker';
import { prebuiltWorkflowBundle } from '../worker/workflow-bundle';
import { NAMESPACE, benchDataConverter, benchReporterKeys, type Stack } from './stack';

/** The workers a benchmark runs in its own process: EcoLoop's, and a bare one for the raw-Temporal baselines. */

let ecoloopBundle: Promise<{ codePath: string }> | undefined;
/** EcoLoop's workflow bundle: the prebuilt one when fresh, else bundled once for this run. */
export function ecoloopWorkflowBundle(): Promise<{ codePath: string }> {
  ecoloopBundle ??= (async () => {
    const prebuilt = prebuiltWorkflowBundle();
    if (prebuilt.bundle) return prebuilt.bundle;
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: silentLogger });
    return writeTempBundle('ecoloop', code);
  })();
  return ecoloopBundle;
}

const silentLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

function writeTempBundle(name: string, code: string): { codePath: string } {
  const file = path.join(os.tmpdir(), `ecoloop-bench-${name}-${process.pid}.js`);
  fs.writeFileSync(file, code);
  process.once('exit', () => fs.rmSync(file, { force: true }));
  return { codePath: file };
}

export interface RunningWorker {
  worker: Worker;
  /** The worker's own PostgreSQL pool (EcoLoop) or none (baseline). */
  pool?: Pool;
  stop(): Promise<void>;
}

function run(worker: Worker, pool?: Pool): RunningWorker {
  const running = worker.run();
  return {
    worker,
    pool,
    async stop() {
      worker.shutdown();
      await running;
      await pool?.end();
    },
  };
}

/** EcoLoop's worker (worker/worker.ts createWorker), in this process. */
export async function startEcoloopWorker(
  stack: Stack,
  options: { taskQueue: string; poolMax?: number; overrides?: Partial<WorkerOptions> },
): Promise<RunningWorker> {
  const pool = createPool(stack.databaseUrl, { max: options.poolMax ?? 10 });
  const worker = await createWorker({
    connection: stack.nativeConnection,
    namespace: NAMESPACE,
    taskQueue: options.taskQueue,
    pool,
    activityDeps: { client: stack.client, reporterKeys: benchReporterKeys },
    workflowBundle: await ecoloopWorkflowBundle(),
    dataConverter: benchDataConverter,
    overrides: options.overrides,
  });
  return run(worker, pool);
}

let baselineBundle: Promise<{ codePath: string }> | undefined;
/** A bare worker for the raw-Temporal baselines of bench/workflows.ts, in this process. */
export async function startBaselineWorker(
  stack: Stack,
  options: { taskQueue: string; overrides?: Partial<WorkerOptions> },
): Promise<RunningWorker> {
  baselineBundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: silentLogger }).then(({ code }) =>
    writeTempBundle('baseline', code),
  );
  const worker = await Worker.create({
    connection: stack.nativeConnection,
    namespace: NAMESPACE,
    taskQueue: options.taskQueue,
    workflowBundle: await baselineBundle,
    ...options.overrides,
  });
  return run(worker);
}
