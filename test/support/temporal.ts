import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, NativeConnection, type Logger, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { ActivityDeps } from '../../activities';
import { developmentKeyRing, encryptingDataConverter } from '../../runtime/encryption';
import { developmentReporterKeyRing } from '../../runtime/reporter-seal';
import { developmentReporterIndex } from '../../runtime/reporter-index';
import { createWorker } from '../../worker/worker';
import { registerSearchAttributes } from '../../worker/search-attributes';

/**
 * Tests encrypt as production does, with the development key: every test client and worker uses
 * this data converter (a client without it cannot read what a test worker returns).
 */
export const testKeyRing = developmentKeyRing();
export const testDataConverter = encryptingDataConverter(testKeyRing);
/** The reporter ring of the tests: the development reporter key (and the payload key, for rows sealed before it). */
export const testReporterKeys = developmentReporterKeyRing();
/** The reporter index of the tests: the development index key. */
export const testReporterIndex = developmentReporterIndex();

let runtimeInstalled = false;
/** Keep the SDK quiet in tests unless something goes wrong; a test that reads the worker's logs calls it first with its own logger. */
export function quietRuntime(logger: Logger = new DefaultLogger('WARN')): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger });
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The official time-skipping test server, from the binary the project installed. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const path = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (!path) throw new Error('TEMPORAL_TEST_SERVER_PATH is not set: run the tests with `npm test`.');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path } },
    client: { dataConverter: testDataConverter },
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** A worker on the prebuilt test bundle, with the test key ring (payloads and reporters encrypted). */
export function createTestWorker(options: {
  connection: NativeConnection;
  taskQueue: string;
  pool: Pool;
  namespace?: string;
  activityDeps?: ActivityDeps;
  overrides?: Partial<WorkerOptions>;
}): Promise<Worker> {
  const codePath = process.env.ECOLOOP_TEST_WORKFLOW_BUNDLE;
  return createWorker({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    pool: options.pool,
    activityDeps: { reporterKeys: testReporterKeys, reporterIndex: testReporterIndex, ...options.activityDeps },
    workflowBundle: codePath ? { codePath } : undefined,
    dataConverter: testDataConverter,
    overrides: options.overrides,
  });
}

/**
 * Connections to the suite's dev server (global setup): a client that reads what test workers
 * write (testDataConverter), and the native connection a test worker polls with.
 */
export async function connectToDevServer(): Promise<{ connection: Connection; nativeConnection: NativeConnection; client: Client }> {
  const address = process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('ECOLOOP_TEST_TEMPORAL_ADDRESS is not set: run the tests with `npm test`.');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return { connection, nativeConnection, client: new Client({ connection, dataConverter: testDataConverter }) };
}
