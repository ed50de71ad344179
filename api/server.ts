import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../db/pool';
import { loadConfigOrExit } from '../runtime/config';
import { encryptingDataConverter, keyRingFromConfig } from '../runtime/encryption';
import { reporterKeyRingFromConfig } from '../runtime/reporter-seal';
import { reporterIndexFromConfig } from '../runtime/reporter-index';
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
    codecTrustsLocalUi: config.CODEC_TRUST_LOCAL_UI === true,
    keyRing,
    reporterKeys: reporterKeyRingFromConfig(config),
    reporterIndex: reporterIndexFromConfig(config),
  });
  const server: Server = app.listen(config.PORT, config.HOST, () => {
    log.info({ url: `http://${config.HOST}:${config.PORT}` }, 'api listening');
  });
  if (config.CODEC_TRUST_LOCAL_UI)
    log.warn({ ui: config.TEMPORAL_UI_URL }, 'the codec trusts the local Temporal UI without a token (development)');
  // Stop once: later signals (npm relays Ctrl-C, a terminal sends it to the group) only say so.
  // Open requests get SHUTDOWN_GRACE_MS; then their connections are cut and the process exits.
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return log.info({ signal }, 'api already stopping');
    stopping = true;
    log.info({ signal }, 'api stopping');
    const stopped = async () => {
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      log.info('api stopped');
      process.exit(0);
    };
    server.close(() => void stopped());
    server.closeIdleConnections();
    setTimeout(() => {
      log.warn({ graceMs: config.SHUTDOWN_GRACE_MS }, 'api: open requests cut off');
      server.closeAllConnections();
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS).unref();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, shutdown);
}

try {
  main();
} catch (err) {
  process.stderr.write(`api failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
