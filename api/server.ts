import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../db/pool';
import { loadConfigOrExit } from '../runtime/config';
import { encryptingDataConverter, keyRingFromConfig } from '../runtime/encryption';
import { reporterKeyRingFromConfig } from '../runtime/reporter-seal';
import { createLogger } from '../runtime/logger';
import { loadPolicy } from '../runtime/policy-file';
import { createApp } from './app';

/** `npm run api`: one API process. Run as many as the load needs, behind a load balancer. */
function main(): void {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL, 'api');
  if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL) {
    log.fatal('TEMPORAL_ADDRESS and DATABASE_URL are required (npm start sets both for a single machine)');
    process.exit(78);
  }
  const policy = loadPolicy(config.POLICY_FILE);
  const pool = createPool(config.DATABASE_URL, { max: config.PG_POOL_MAX });
  // Lazy: the API starts (and answers 503) even while Temporal is still coming up.
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const keyRing = keyRingFromConfig(config);
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: encryptingDataConverter(keyRing) });
  const app = createApp({
    client,
    connection,
    pool,
    policy: () => policy,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    jwtSecret: config.JWT_SECRET,
    log,
    temporalUiUrl: config.TEMPORAL_UI_URL,
    keyRing,
    reporterKeys: reporterKeyRingFromConfig(config),
  });
  const server: Server = app.listen(config.PORT, config.HOST, () => {
    log.info({ url: `http://${config.HOST}:${config.PORT}` }, 'api listening');
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'api stopping');
    const stopped = async () => {
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      log.info('api stopped');
      process.exit(0);
    };
    server.close(() => void stopped());
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

try {
  main();
} catch (err) {
  process.stderr.write(`api failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
