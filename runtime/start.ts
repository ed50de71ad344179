import path from 'node:path';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { seedUnitDirectory } from '../db/units';
import { seedUnits } from '../domain/unit-seed';
import { spawnOwned, startReaper, stopOwned, waitFor, type OwnedProcess } from './child-process';
import { dataDir, loadConfigOrExit, LOOPBACK_HOSTS, METRICS_PATH } from './config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { createLogger } from './logger';
import { ensureTemporalBinaries } from './temporal-binaries';
import { startTemporalDevServer, type DevServer } from './temporal-dev-server';

/**
 * `npm start`: the whole system on one machine. Starts what is not given (a Temporal dev server
 * when TEMPORAL_ADDRESS is unset, an embedded PostgreSQL when DATABASE_URL is unset), both
 * persisted under DATA_DIR; migrates; runs the worker and the API; prints where everything is.
 *
 * Stopping (docs/operations.md "Stopping"): SIGINT, SIGTERM or SIGHUP, once or many times, stops
 * every child in order (API, worker, Temporal, PostgreSQL), each bounded by STOP_TIMEOUT_MS and
 * then killed with its process group. The children run in groups of their own, so the terminal's
 * Ctrl-C reaches this process only; `npm start` runs node directly (no tsx CLI relaying signals).
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL, 'start');
  const data = dataDir(config);
  const root = path.resolve(__dirname, '..');
  const stopTimeoutMs = config.STOP_TIMEOUT_MS;
  let temporal: DevServer | undefined;
  let postgres: EmbeddedPostgres | undefined;
  const children: OwnedProcess[] = [];
  let stopped: Promise<never> | undefined;

  // Should this process be killed outright, the reaper stops what it started.
  startReaper(stopTimeoutMs);

  /** The one stop, whatever asks for it and however often; the first caller's exit code wins. */
  function stopAll(code: number): Promise<never> {
    stopped ??= (async () => {
      log.info('stopping');
      for (const child of [...children].reverse()) {
        log.info(`stopping ${child.name}`);
        await child.stop('SIGTERM', stopTimeoutMs);
      }
      if (temporal) log.info('stopping the Temporal dev server');
      await temporal?.stop(stopTimeoutMs);
      if (postgres) log.info('stopping PostgreSQL');
      await postgres?.stop(stopTimeoutMs);
      // Anything still starting when the signal came (a server not yet handed back).
      await stopOwned('SIGTERM', stopTimeoutMs);
      log.info('stopped');
      process.exit(code);
    })();
    return stopped;
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) log.info({ signal }, 'already stopping');
    else log.info({ signal }, 'signal received');
    void stopAll(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  try {
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl = config.TEMPORAL_UI_URL;
    const apiUrl = `http://${config.HOST}:${config.PORT}`;
    if (!temporalAddress) {
      const { cli } = ensureTemporalBinaries(process.env, (line) => log.info(line));
      if (stopped) return;
      temporal = await startTemporalDevServer({
        cli,
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        // The UI decodes payloads through the API's codec (see docs/privacy.md).
        uiCodecEndpoint: `${apiUrl}/codec`,
        dbFile: path.join(data, 'temporal.sqlite'),
        namespace: config.TEMPORAL_NAMESPACE,
        onLine: (line) => process.stdout.write(`${line}\n`),
      });
      temporalAddress = temporal.address;
      temporalUiUrl ??= temporal.uiUrl;
      void temporal.process.exited.then(() => !stopped && (log.error('the Temporal dev server exited'), stopAll(1)));
    }
    if (stopped) return;

    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      postgres = await startEmbeddedPostgres({
        dataDir: path.join(data, 'postgres'),
        port: config.EMBEDDED_PG_PORT,
        onLine: (line) => log.debug({ component: 'postgres' }, line),
      });
      databaseUrl = postgres.url;
      void postgres.process.exited.then(() => !stopped && (log.error('PostgreSQL exited'), stopAll(1)));
    }
    if (stopped) return;

    const pool = createPool(databaseUrl, { max: 1 });
    await migrate(pool, (msg) => log.info(msg));
    // The development stack's handling units (a unit an admin changed is left as it is).
    const seeded = await seedUnitDirectory(pool, seedUnits(), { id: 'seed', role: 'system' });
    if (seeded) log.info({ seeded }, 'seeded the unit directory');
    await pool.end();
    if (stopped) return;

    // The dev server's UI has no sign-in: the codec trusts it, in development on loopback only,
    // unless CODEC_TRUST_LOCAL_UI=false says otherwise (docs/privacy.md).
    const trustUi =
      temporal?.uiUrl !== undefined &&
      temporalUiUrl === temporal.uiUrl &&
      config.CODEC_TRUST_LOCAL_UI !== false &&
      config.NODE_ENV === 'development' &&
      LOOPBACK_HOSTS.includes(config.HOST);
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      DATABASE_URL: databaseUrl,
      ...(temporalUiUrl && { TEMPORAL_UI_URL: temporalUiUrl }),
      ...(trustUi && { CODEC_TRUST_LOCAL_UI: 'true' }),
    };
    const run = (name: string, entry: string) => {
      const child = spawnOwned(name, process.execPath, ['--import', 'tsx', path.join(root, entry)], {
        env,
        cwd: root,
        onLine: (line) => process.stdout.write(`${line}\n`),
      });
      children.push(child);
      void child.exited.then((code) => !stopped && (log.error({ code }, `${name} exited`), stopAll(1)));
      return child;
    };
    run('worker', 'worker/main.ts');
    run('api', 'api/server.ts');
    await waitFor('the API', async () => (await fetch(`${apiUrl}/health`)).ok, {
      timeoutMs: 120_000,
      aborted: new Promise((resolve) => void Promise.race(children.map((c) => c.exited)).then(resolve)),
    });
    if (stopped) return;

    const workerMetrics = (port: number) => (port === 0 ? '(off)' : `http://${config.WORKER_METRICS_HOST}:${port}${METRICS_PATH}`);
    const codec = trustUi
      ? `${apiUrl}/codec   (the Temporal UI decodes through it; this local UI needs no token)`
      : `${apiUrl}/codec   (ops tokens only; see docs/privacy.md)`;
    const lines = [
      '',
      'EcoLoop is running.',
      `  API:          ${apiUrl}   (health: ${apiUrl}/health, docs: ${apiUrl}/docs)`,
      `  Temporal UI:  ${temporalUiUrl ?? '(external Temporal; set TEMPORAL_UI_URL)'}`,
      `  Codec:        ${codec}`,
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
    if (stopped) return; // a stop interrupted the start: not a failure
    log.fatal({ err: (err as Error).message }, 'start failed');
    await stopAll(1);
  }
}

void main();
