import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { loadConfigOrExit } from '../runtime/config';
import { encryptingDataConverter, keyRingFromConfig } from '../runtime/encryption';
import { reporterKeyRingFromConfig } from '../runtime/reporter-seal';
import { reindexReporters, resealReporters } from '../db/reporters';
import { reporterIndexFromConfig } from '../runtime/reporter-index';
import { createLogger, installTemporalRuntimeLogging } from '../runtime/logger';
import { createWorker } from './worker';
import { prebuiltWorkflowBundle } from './workflow-bundle';
import { registerSearchAttributes } from './search-attributes';
import { startNotificationSender } from './notification-sender';
import { ensureSupervisionSchedules } from './schedules';
import { ensureReportSchedules } from './report-schedules';
import { ensureGovernanceSchedules } from './governance-schedules';
import { loadPolicy } from '../runtime/policy-file';
import { watchHolidayCalendar } from './holiday-calendar-check';
import { metricsUrl, startWorkerMetricsServer, temporalMetricsExporter } from './metrics';

/** `npm run worker`: one worker process. Run as many as the load needs. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL, 'worker');
  if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL) {
    log.fatal('TEMPORAL_ADDRESS and DATABASE_URL are required (npm start sets both for a single machine)');
    process.exit(78);
  }
  // The policy document: a bad POLICY_FILE stops the worker here, before it does anything.
  let policy;
  try {
    policy = loadPolicy(config.POLICY_FILE);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'invalid policy');
    process.exit(78);
  }
  // Stopping: a signal before the worker runs ends the process (nothing polled yet, nothing to
  // drain); once it runs, the SDK's Runtime takes the first SIGINT/SIGTERM and drains the worker,
  // and stops listening. Later signals must not kill it mid-drain: this listener keeps them.
  let running = false;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!running) {
      log.info({ signal }, 'worker stopped before it started');
      process.exit(0);
    }
    if (signalled) log.info({ signal }, 'worker already draining');
    signalled = true;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  // The one Runtime of the process, before any connection or worker: logs into pino, and the SDK's
  // own metrics (temporal_*) on WORKER_TEMPORAL_METRICS_PORT.
  const sdkMetrics = temporalMetricsExporter(config);
  if (installTemporalRuntimeLogging(log, sdkMetrics))
    log.info({ url: metricsUrl(config.WORKER_METRICS_HOST, config.WORKER_TEMPORAL_METRICS_PORT) }, 'Temporal SDK metrics');
  const pool = createPool(config.DATABASE_URL, { max: config.PG_POOL_MAX });
  await migrate(pool, (msg) => log.info(msg));
  // EcoLoop's gauges (cases, overdue, outbox), read from PostgreSQL on each scrape.
  const metricsServer =
    config.WORKER_METRICS_PORT === 0
      ? undefined
      : await startWorkerMetricsServer({ pool, host: config.WORKER_METRICS_HOST, port: config.WORKER_METRICS_PORT, log });
  if (metricsServer) log.info({ url: metricsServer.url }, 'EcoLoop metrics');
  // Reporter privacy, two layers (docs/privacy.md): the payload ring seals every Temporal payload;
  // the reporter ring seals the identity inside them and in PostgreSQL. Rows in clear from before
  // migration 002, under a retired key, or under a payload key from before the reporter ring are
  // sealed with the reporter ring's current key.
  const keyRing = keyRingFromConfig(config);
  const dataConverter = encryptingDataConverter(keyRing);
  const reporterKeys = reporterKeyRingFromConfig(config);
  const resealed = await resealReporters(pool, reporterKeys);
  if (resealed.resealed) log.info(resealed, 'sealed reporters with the current key');
  if (resealed.unreadable) log.warn(resealed, 'some reporters are sealed with a key no longer in REPORTER_KEYS or ENCRYPTION_KEYS');
  // The blind index (finding a case by its caller): rows indexed under a retired REPORTER_INDEX_KEYS key, or not at all, indexed again.
  const reporterIndex = reporterIndexFromConfig(config);
  const reindexed = await reindexReporters(pool, reporterKeys, reporterIndex);
  if (reindexed.reindexed) log.info(reindexed, 'indexed reporters with the current index key');
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const added = await registerSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
    if (added.length) log.info({ added }, 'registered search attributes');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not register search attributes; register them with the admin tools');
  }
  // Activities that message other workflows use an ordinary client.
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  // The bundle `npm run build:workflows` wrote, when it is current: no webpack run at every start.
  const prebuilt = prebuiltWorkflowBundle();
  log.info(prebuilt.reason);
  const worker = await createWorker({
    workflowBundle: prebuilt.bundle,
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pool,
    activityDeps: { client, reporterKeys, reporterIndex, policy: () => policy },
    dataConverter,
    overrides: {
      ...(config.WORKER_MAX_CACHED_WORKFLOWS !== undefined && { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS }),
      // A slow activity gets SHUTDOWN_GRACE_MS to finish before it is cancelled; the worker gives up
      // on draining after twice that (run() rejects, the process exits 1), so a stop always ends.
      shutdownGraceTime: config.SHUTDOWN_GRACE_MS,
      shutdownForceTime: 2 * config.SHUTDOWN_GRACE_MS,
    },
  });
  // Supervision Schedules (daily desk check, quarterly re-inspection): created, or brought up to the policy.
  try {
    const schedules = await ensureSupervisionSchedules(client, { policy, taskQueue: config.TEMPORAL_TASK_QUEUE });
    log.info({ schedules }, 'supervision schedules in place');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not create or update the supervision schedules');
  }
  // Backlog Schedules (daily scan, yearly sort): created, or brought up to the policy.
  try {
    const schedules = await ensureGovernanceSchedules(client, { policy, taskQueue: config.TEMPORAL_TASK_QUEUE });
    log.info({ schedules }, 'backlog schedules in place');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not create or update the backlog schedules');
  }
  // Report Schedules (monthly on the 1st, quarterly): created, or brought up to the policy.
  try {
    const schedules = await ensureReportSchedules(client, { policy, taskQueue: config.TEMPORAL_TASK_QUEUE });
    log.info({ schedules }, 'report schedules in place');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not create or update the report schedules');
  }
  // Working-day deadlines need next year's holidays: warned from 1 December while no one has them.
  const stopCalendarWatch = watchHolidayCalendar(policy.calendar, log);
  const sender = startNotificationSender({
    pool,
    log,
    webhookUrl: config.NOTIFICATION_WEBHOOK_URL,
    pollMs: config.NOTIFICATION_POLL_MS,
  });
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE }, 'worker started');
  // The SDK's Runtime shuts the worker down on SIGINT/SIGTERM; run() resolves once it has drained.
  running = true;
  await worker.run();
  stopCalendarWatch();
  await sender.stop();
  await metricsServer?.stop();
  await clientConnection.close();
  await connection.close();
  await pool.end();
  log.info('worker stopped');
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
