import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString, type WorkerOptions } from '@temporalio/worker';
import { createPool } from '../db/pool';
import { encryptingDataConverter, keyRingFromConfig } from '../runtime/encryption';
import { reporterKeyRingFromConfig } from '../runtime/reporter-seal';
import { reporterIndexFromConfig } from '../runtime/reporter-index';
import { createWorker } from '../worker/worker';

/**
 * EcoLoop's worker alone in a process, so that a benchmark can read its memory: started by
 * bench/open-cases.ts with `fork`, it answers each 'memory' message with its process figures.
 *
 * Environment: TEMPORAL_ADDRESS, DATABASE_URL, TEMPORAL_TASK_QUEUE, BENCH_WORKFLOW_BUNDLE,
 * BENCH_PG_POOL_MAX, BENCH_WORKER_OPTIONS (JSON of WorkerOptions overrides).
 */

export interface WorkerMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Workflows in the worker's cache (the SDK's count) when the figures were taken. */
  cachedWorkflows: number;
}

async function main(): Promise<void> {
  const env = process.env;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  const keyRing = keyRingFromConfig(env);
  const dataConverter = encryptingDataConverter(keyRing);
  const pool = createPool(env.DATABASE_URL!, { max: Number(env.BENCH_PG_POOL_MAX ?? 10) });
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  const client = new Client({ connection: clientConnection, dataConverter });
  const overrides = JSON.parse(env.BENCH_WORKER_OPTIONS ?? '{}') as Partial<WorkerOptions>;
  const worker = await createWorker({
    connection,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE!,
    pool,
    activityDeps: { client, reporterKeys: reporterKeyRingFromConfig(env), reporterIndex: reporterIndexFromConfig(env) },
    workflowBundle: { codePath: env.BENCH_WORKFLOW_BUNDLE! },
    dataConverter,
    overrides,
  });
  process.on('message', (message) => {
    if (message === 'memory') {
      const m = process.memoryUsage();
      const memory: WorkerMemory = {
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        cachedWorkflows: worker.getStatus().numCachedWorkflows,
      };
      process.send?.({ memory });
    }
    if (message === 'stop') worker.shutdown();
  });
  process.on('disconnect', () => worker.getState() === 'RUNNING' && worker.shutdown());
  const running = worker.run();
  process.send?.('ready');
  await running;
  await clientConnection.close();
  await connection.close();
  await pool.end();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench worker failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
