import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities, type ActivityDeps } from '../activities';
import { WORKER_DEFAULTS } from '../runtime/config';

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
 * Cached workflows kept in memory between tasks: runtime/config.ts WORKER_DEFAULTS, sized from the
 * memory of one cached workflow (every module of the bundle but the SDK is evaluated once per
 * workflow, so the bundle stays lean: no zod). WORKER_MAX_CACHED_WORKFLOWS overrides it.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = WORKER_DEFAULTS.maxCachedWorkflows;

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
