import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createPool } from '../../db/pool';
import { loadConfig } from '../../runtime/config';
import { encryptingDataConverter, keyRingFromConfig } from '../../runtime/encryption';
import { reporterKeyRingFromConfig } from '../../runtime/reporter-seal';
import { reporterIndexFromConfig } from '../../runtime/reporter-index';
import { createLogger } from '../../runtime/logger';
import { loadPolicy } from '../../runtime/policy-file';
import { startNotificationSender } from '../../worker/notification-sender';
import { createWorker } from '../../worker/worker';

/**
 * A worker process for the fault-injection tests, composed as worker/main.ts composes the real one
 * (EcoLoop's worker with the key ring of the configuration, and the outbox's notification sender,
 * in one process), but on the prebuilt test bundle (ECOLOOP_TEST_WORKFLOW_BUNDLE), without
 * migrating (the test's database is migrated) and without the Schedules.
 * A test kills it with SIGKILL and starts another. Prints `fault-worker ready` once it polls.
 *
 * Environment: TEMPORAL_ADDRESS, DATABASE_URL, TEMPORAL_TASK_QUEUE, NOTIFICATION_WEBHOOK_URL,
 * NOTIFICATION_POLL_MS, ECOLOOP_TEST_WORKFLOW_BUNDLE.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const bundle = process.env.ECOLOOP_TEST_WORKFLOW_BUNDLE;
  if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL || !bundle) {
    throw new Error('TEMPORAL_ADDRESS, DATABASE_URL and ECOLOOP_TEST_WORKFLOW_BUNDLE are required');
  }
  // The SDK's errors as they are; of its warnings, each failed activity attempt as one JSON line (the
  // projection is a local activity, whose retries a test sees only here: test/faults/postgres-outage.test.ts).
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      if (level === 'ERROR') process.stderr.write(`[${level}] ${message}\n`);
      else if (message === 'Activity failed') {
        const { activityType, isLocal, attempt } = (meta ?? {}) as { activityType?: string; isLocal?: boolean; attempt?: number };
        process.stdout.write(`${JSON.stringify({ msg: message, activityType, isLocal, attempt })}\n`);
      }
    }),
  });
  const log = createLogger(config.LOG_LEVEL, 'fault-worker');
  const pool = createPool(config.DATABASE_URL, { max: config.PG_POOL_MAX });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const keyRing = keyRingFromConfig(config);
  const dataConverter = encryptingDataConverter(keyRing);
  const clientConnection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pool,
    activityDeps: {
      client,
      reporterKeys: reporterKeyRingFromConfig(config),
      reporterIndex: reporterIndexFromConfig(config),
      policy: () => loadPolicy(config.POLICY_FILE),
    },
    workflowBundle: { codePath: bundle },
    dataConverter,
  });
  const sender = startNotificationSender({ pool, log, webhookUrl: config.NOTIFICATION_WEBHOOK_URL, pollMs: config.NOTIFICATION_POLL_MS });
  const running = worker.run();
  process.stdout.write('fault-worker ready\n');
  await running;
  await sender.stop();
  await clientConnection.close();
  await connection.close();
  await pool.end();
}

main().catch((err) => {
  process.stderr.write(`fault-worker failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
