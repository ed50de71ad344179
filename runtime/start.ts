import path from 'node:path';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { spawnOwned, waitFor, type OwnedProcess } from './child-process';
import { dataDir, loadConfigOrExit, METRICS_PATH } from './config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { createLogger } from './logger';
import { ensureTemporalBinaries } from './temporal-binaries';
import { startTemporalDevServer, type DevServer } from './temporal-dev-server';

/**
 * `npm start`: the whole system on one machine. Starts what is not given (a Temporal dev server
 * when TEMPORAL_ADDRESS is unset, an embedded PostgreSQL when DATABASE_URL is unset), both
 * persisted under DATA_DIR; migrates; runs the worker and the API; prints where everything is.
 * Ctrl-C stops every child in order: API, worker, Temporal, PostgreSQL.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL, 'start');
  const data = dataDir(config);
  const root = path.resolve(__dirname, '..');
  let temporal: DevServer | undefined;
  let postgres: EmbeddedPostgres | undefined;
  const children: OwnedProcess[] = [];
  let stopping = false;

  async function stopAll(code: number): Promise<never> {
    if (!stopping) {
      stopping = true;
      log.info('stopping');
      for (const child of [...children].reverse()) await child.stop('SIGTERM', 20_000);
      await temporal?.stop();
      await postgres?.stop();
      log.info('stopped');
    }
    process.exit(code);
  }
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl = config.TEMPORAL_UI_URL;
    if (!temporalAddress) {
      const { cli } = ensureTemporalBinaries(process.env, (line) => log.info(line));
      temporal = await startTemporalDevServer({
        cli,
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        // The UI decrypts payloads through the API (ops only; see docs/privacy.md).
        uiCodecEndpoint: `http://${config.HOST}:${config.PORT}/codec`,
        dbFile: path.join(data, 'temporal.sqlite'),
        namespace: config.TEMPORAL_NAMESPACE,
        onLine: (line) => process.stdout.write(`${line}\n`),
      });
      temporalAddress = temporal.address;
      temporalUiUrl ??= temporal.uiUrl;
      void temporal.process.exited.then(() => !stopping && (log.error('the Temporal dev server exited'), stopAll(1)));
    }

    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      postgres = await startEmbeddedPostgres({
        dataDir: path.join(data, 'postgres'),
        port: config.EMBEDDED_PG_PORT,
        onLine: (line) => log.debug({ component: 'postgres' }, line),
      });
      databaseUrl = postgres.url;
      void postgres.process.exited.then(() => !stopping && (log.error('PostgreSQL exited'), stopAll(1)));
    }

    const pool = createPool(databaseUrl, { max: 1 });
    await migrate(pool, (msg) => log.info(msg));
    await pool.end();

    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      DATABASE_URL: databaseUrl,
      ...(temporalUiUrl && { TEMPORAL_UI_URL: temporalUiUrl }),
    };
    const run = (name: string, entry: string) => {
      const child = spawnOwned(name, process.execPath, ['--import', 'tsx', path.join(root, entry)], {
        env,
        cwd: root,
        onLine: (line) => process.stdout.write(`${line}\n`),
      });
      children.push(child);
      void child.exited.then((code) => !stopping && (log.error({ code }, `${name} exited`), stopAll(1)));
      return child;
    };
    run('worker', 'worker/main.ts');
    run('api', 'api/server.ts');
    const apiUrl = `http://${config.HOST}:${config.PORT}`;
    await waitFor('the API', async () => (await fetch(`${apiUrl}/health`)).ok, { timeoutMs: 120_000 });

    const workerMetrics = (port: number) => (port === 0 ? '(off)' : `http://${config.WORKER_METRICS_HOST}:${port}${METRICS_PATH}`);
    const lines = [
      '',
      'EcoLoop is running.',
      `  API:          ${apiUrl}   (health: ${apiUrl}/health, docs: ${apiUrl}/docs)`,
      `  Temporal UI:  ${temporalUiUrl ?? '(external Temporal; set TEMPORAL_UI_URL)'}`,
      `  Temporal:     ${temporalAddress}${temporal ? `   (dev server, data in ${path.join(data, 'temporal.sqlite')})` : ''}`,
      `  PostgreSQL:   ${databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}${postgres ? `   (embedded, data in ${path.join(data, 'postgres')})` : ''}`,
      `  Metrics:      ${apiUrl}${METRICS_PATH}   (API: requests by route, latency)`,
      `                ${workerMetrics(config.WORKER_METRICS_PORT)}   (worker: open and overdue cases, outbox)`,
      `                ${workerMetrics(config.WORKER_TEMPORAL_METRICS_PORT)}   (worker: Temporal SDK, temporal_*)`,
      `  A token:      npm run token -- clerk    (roles: clerk, unit, supervisor, inspector, analyst, ops, admin)`,
      '  Stop:         Ctrl-C',
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'start failed');
    await stopAll(1);
  }
}

void main();
