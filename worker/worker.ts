import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities, type ActivityDeps } from '../activities';

export const workflowsPath = require.resolve('../workflows');

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: Pool;
  /** Further dependencies of the activities. */
  activityDeps?: ActivityDeps;
  /** A prebuilt bundle (production, tests) instead of bundling `workflows/` at start-up. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Payload codecs (runtime/encryption.ts encryptingDataConverter): must match every client's. */
  dataConverter?: WorkerOptions['dataConverter'];
  overrides?: Partial<WorkerOptions>;
}

/**
 * Cached workflows kept in memory between tasks. The SDK's default (from the heap limit: about 2,300
 * on a 4 GB heap) is too many for ours, since every module of the bundle but the SDK is evaluated
 * once per workflow: a full cache drove a worker into constant garbage collection
 * (bench/RESULTS.md, "Tuning"). WORKER_MAX_CACHED_WORKFLOWS overrides it.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 500;

/** The worker that runs every EcoLoop workflow and activity. */
export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    maxCachedWorkflows: DEFAULT_MAX_CACHED_WORKFLOWS,
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: createActivities(options.pool, options.activityDeps),
    ...(options.dataConverter && { dataConverter: options.dataConverter }),
    ...options.overrides,
  });
}
