import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { loadConfigOrExit } from '../runtime/config';
import { createLogger, installTemporalRuntimeLogging } from '../runtime/logger';
import { createWorker } from './worker';
import { registerSearchAttributes } from './search-attributes';
import { startNotificationSender } from './notification-sender';

/** `npm run worker`: one worker process. Run as many as the load needs. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL, 'worker');
  if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL) {
    log.fatal('TEMPORAL_ADDRESS and DATABASE_URL are required (npm start sets both for a single machine)');
    process.exit(78);
  }
  installTemporalRuntimeLogging(log);
  const pool = createPool(config.DATABASE_URL, { max: config.PG_POOL_MAX });
  await migrate(pool, (msg) => log.info(msg));
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const added = await registerSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
    if (added.length) log.info({ added }, 'registered search attributes');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not register search attributes; register them with the admin tools');
  }
  // Activities that message other workflows use an ordinary client.
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pool,
    activityDeps: { client },
  });
  const sender = startNotificationSender({
    pool,
    log,
    webhookUrl: config.NOTIFICATION_WEBHOOK_URL,
    pollMs: config.NOTIFICATION_POLL_MS,
  });
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE }, 'worker started');
  // The SDK's Runtime shuts the worker down on SIGINT/SIGTERM; run() resolves once it has drained.
  await worker.run();
  await sender.stop();
  await clientConnection.close();
  await connection.close();
  await pool.end();
  log.info('worker stopped');
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
