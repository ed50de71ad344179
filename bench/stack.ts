import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { createPool, type Pool } from '../db/pool';
import { migrate } from '../db/migrate';
import { seedUnitDirectory } from '../db/units';
import { seedUnits } from '../domain/unit-seed';
import { encryptingDataConverter, keyRingFromConfig } from '../runtime/encryption';
import { reporterKeyRingFromConfig } from '../runtime/reporter-seal';
import { startEmbeddedPostgres } from '../runtime/embedded-postgres';
import { ensureTemporalBinaries, temporalCliVersion } from '../runtime/temporal-binaries';
import { startTemporalDevServer } from '../runtime/temporal-dev-server';
import { registerSearchAttributes } from '../worker/search-attributes';
import { freePort } from '../test/support/ports';
import { createScratchDatabase } from '../test/support/scratch-database';

/**
 * The servers every benchmark runs on: a Temporal server (a dev server on a fresh SQLite file, or
 * the one at TEMPORAL_ADDRESS) and a PostgreSQL database of its own (a scratch database on
 * DATABASE_URL's server, or an embedded PostgreSQL), with the clients that talk to them.
 */

export const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
/** Payloads are encrypted as in production, with the keys of the environment (the development key when unset). */
export const benchKeyRing = keyRingFromConfig(process.env);
export const benchDataConverter = encryptingDataConverter(benchKeyRing);
export const benchReporterKeys = reporterKeyRingFromConfig(process.env);

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // Core's own warnings (e.g. "workflow task took more than 5 s") too: a benchmark reports figures, not logs.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
}

export interface Stack {
  temporalAddress: string;
  /** 'dev server <cli version>, SQLite' or 'TEMPORAL_ADDRESS'. */
  temporalKind: string;
  serverVersion: string;
  /** The dev server's SQLite file, when this run started the server. */
  sqliteFile?: string;
  databaseUrl: string;
  postgresKind: string;
  connection: Connection;
  /** EcoLoop's client: payloads encrypted, as the API's and the worker's. */
  client: Client;
  /** A bare client (default data converter) for the raw-Temporal baselines. */
  rawClient: Client;
  nativeConnection: NativeConnection;
  /** For the benchmark's own reads. */
  pool: Pool;
  stop(): Promise<void>;
}

/** Start (or connect to) everything a benchmark runs on. */
/** The unit bench:year hands every case to: it covers the province. */
export const BENCH_UNIT = { unitId: 'unit-bench', name: 'Bench unit', divisionCode: '370000', notify: { channel: 'platform' as const } };

export async function startStack(): Promise<Stack> {
  quietRuntime();
  const stops: Array<() => Promise<void>> = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-bench-'));
  // PostgreSQL runs as the postgres user when we are root: it must be able to enter the folder.
  fs.chmodSync(dir, 0o755);
  stops.push(() => fs.promises.rm(dir, { recursive: true, force: true }));
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => process.stderr.write(`cleanup: ${(err as Error).message}\n`));
  };

  try {
    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    let temporalKind = `TEMPORAL_ADDRESS=${temporalAddress}`;
    let sqliteFile: string | undefined;
    if (!temporalAddress) {
      const { cli } = ensureTemporalBinaries();
      sqliteFile = path.join(dir, 'temporal.sqlite');
      const server = await startTemporalDevServer({ cli, port: await freePort(), dbFile: sqliteFile, namespace: NAMESPACE });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      temporalKind = `dev server (${temporalCliVersion(cli).split('\n')[0]}), SQLite file, WAL`;
    }

    let databaseUrl: string;
    let postgresKind: string;
    if (process.env.DATABASE_URL) {
      // A scratch database on the given server, dropped at the end.
      const name = `ecoloop_bench_${randomBytes(4).toString('hex')}`;
      const scratch = await createScratchDatabase(process.env.DATABASE_URL, name);
      databaseUrl = scratch.url;
      postgresKind = `DATABASE_URL's server, scratch database ${name}`;
      stops.push(() => scratch.drop());
    } else {
      const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: await freePort(), database: 'ecoloop_bench' });
      stops.push(() => pg.stop());
      databaseUrl = pg.url;
      postgresKind = 'embedded PostgreSQL (runtime/embedded-postgres.ts), default settings';
    }

    const pool = createPool(databaseUrl, { max: 5 });
    stops.push(() => pool.end());
    await migrate(pool);
    // The unit directory npm start seeds (domain/unit-seed.ts), whose bureaus the benches hand cases
    // to, and the year's one unit for the whole province.
    await seedUnitDirectory(pool, [...seedUnits(), BENCH_UNIT], { id: 'seed', role: 'system' });

    const connection = await Connection.connect({ address: temporalAddress });
    stops.push(() => connection.close());
    const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
    stops.push(() => nativeConnection.close());
    await registerSearchAttributes(nativeConnection, NAMESPACE);
    const info = await connection.workflowService.getSystemInfo({});

    return {
      temporalAddress,
      temporalKind,
      serverVersion: info.serverVersion || 'unknown',
      sqliteFile,
      databaseUrl,
      postgresKind,
      connection,
      client: new Client({ connection, namespace: NAMESPACE, dataConverter: benchDataConverter }),
      rawClient: new Client({ connection, namespace: NAMESPACE }),
      nativeConnection,
      pool,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A task queue of this run's own. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
