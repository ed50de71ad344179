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

/** The worker that runs every EcoLoop workflow and activity. */
export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: createActivities(options.pool, options.activityDeps),
    ...(options.dataConverter && { dataConverter: options.dataConverter }),
    ...options.overrides,
  });
}
