import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, makeTelemetryFilterString, type WorkerOptions } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { createApp } from '../api/app';
import { mintToken } from '../api/auth';
import { createPool, type Pool } from '../db/pool';
import { migrate } from '../db/migrate';
import type { Policy } from '../domain/policy';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { encryptingDataConverter, keyRingFromConfig } from '../runtime/encryption';
import { spawnOwned, waitFor } from '../runtime/child-process';
import { startEmbeddedPostgres } from '../runtime/embedded-postgres';
import { createLogger } from '../runtime/logger';
import { ensureTemporalBinaries, temporalCliVersion } from '../runtime/temporal-binaries';
import { startTemporalDevServer } from '../runtime/temporal-dev-server';
import { registerSearchAttributes } from '../worker/search-attributes';
import { createWorker } from '../worker/worker';
import { prebuiltWorkflowBundle } from '../worker/workflow-bundle';
import { freePort } from '../test/support/ports';

/**
 * What every benchmark needs: a Temporal server (a dev server on a fresh SQLite file, or the one at
 * TEMPORAL_ADDRESS), a PostgreSQL database of its own (a scratch database on DATABASE_URL's server,
 * or an embedded PostgreSQL), EcoLoop's worker and API (in this process, or the API in its own), a raw-Temporal baseline
 * worker, a bounded load loop and the figures' arithmetic.
 */

export const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
/** Payloads are encrypted as in production, with the keys of the environment (the development key when unset). */
const benchKeyRing = keyRingFromConfig(process.env);
const benchDataConverter = encryptingDataConverter(benchKeyRing);

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
export async function startStack(): Promise<Stack> {
  quietRuntime();
  const stops: Array<() => Promise<void>> = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-bench-'));
  // PostgreSQL runs as the postgres user when we are root: it must be able to enter the folder.
  fs.chmodSync(dir, 0o755);
  stops.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
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
      const admin = new PgClient({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(process.env.DATABASE_URL);
      url.pathname = `/${name}`;
      databaseUrl = url.toString();
      postgresKind = `DATABASE_URL's server, scratch database ${name}`;
      stops.push(async () => {
        const c = new PgClient({ connectionString: process.env.DATABASE_URL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      });
    } else {
      const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: await freePort(), database: 'ecoloop_bench' });
      stops.push(() => pg.stop());
      databaseUrl = pg.url;
      postgresKind = 'embedded PostgreSQL (runtime/embedded-postgres.ts), default settings';
    }

    const pool = createPool(databaseUrl, { max: 5 });
    stops.push(() => pool.end());
    await migrate(pool);

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

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

let ecoloopBundle: Promise<{ codePath: string }> | undefined;
/** EcoLoop's workflow bundle: the prebuilt one when fresh, else bundled once for this run. */
export function ecoloopWorkflowBundle(): Promise<{ codePath: string }> {
  ecoloopBundle ??= (async () => {
    const prebuilt = prebuiltWorkflowBundle();
    if (prebuilt.bundle) return prebuilt.bundle;
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: silentLogger });
    return writeTempBundle('ecoloop', code);
  })();
  return ecoloopBundle;
}

const silentLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

function writeTempBundle(name: string, code: string): { codePath: string } {
  const file = path.join(os.tmpdir(), `ecoloop-bench-${name}-${process.pid}.js`);
  fs.writeFileSync(file, code);
  process.once('exit', () => fs.rmSync(file, { force: true }));
  return { codePath: file };
}

export interface RunningWorker {
  worker: Worker;
  /** The worker's own PostgreSQL pool (EcoLoop) or none (baseline). */
  pool?: Pool;
  stop(): Promise<void>;
}

async function run(worker: Worker, pool?: Pool): Promise<RunningWorker> {
  const running = worker.run();
  return {
    worker,
    pool,
    async stop() {
      worker.shutdown();
      await running;
      await pool?.end();
    },
  };
}

/** EcoLoop's worker (worker/worker.ts createWorker), in this process. */
export async function startEcoloopWorker(
  stack: Stack,
  options: { taskQueue: string; poolMax?: number; overrides?: Partial<WorkerOptions> },
): Promise<RunningWorker> {
  const pool = createPool(stack.databaseUrl, { max: options.poolMax ?? 10 });
  const worker = await createWorker({
    connection: stack.nativeConnection,
    namespace: NAMESPACE,
    taskQueue: options.taskQueue,
    pool,
    activityDeps: { client: stack.client, keyRing: benchKeyRing },
    workflowBundle: await ecoloopWorkflowBundle(),
    dataConverter: benchDataConverter,
    overrides: options.overrides,
  });
  return run(worker, pool);
}

let baselineBundle: Promise<{ codePath: string }> | undefined;
/** A bare worker for the raw-Temporal baselines of bench/workflows.ts, in this process. */
export async function startBaselineWorker(
  stack: Stack,
  options: { taskQueue: string; overrides?: Partial<WorkerOptions> },
): Promise<RunningWorker> {
  baselineBundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: silentLogger }).then(({ code }) =>
    writeTempBundle('baseline', code),
  );
  const worker = await Worker.create({
    connection: stack.nativeConnection,
    namespace: NAMESPACE,
    taskQueue: options.taskQueue,
    workflowBundle: await baselineBundle,
    ...options.overrides,
  });
  return run(worker);
}

export interface RunningApi {
  baseUrl: string;
  /** A clerk's bearer token. */
  token: string;
  pool: Pool;
  stop(): Promise<void>;
}

/** The HTTP API (api/app.ts createApp) on an ephemeral port of this process, with its own Temporal connection and pool. */
export async function startApi(stack: Stack, options: { taskQueue: string; policy: Policy; poolMax?: number }): Promise<RunningApi> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const pool = createPool(stack.databaseUrl, { max: options.poolMax ?? 10 });
  const app = createApp({
    client: new Client({ connection, namespace: NAMESPACE, dataConverter: benchDataConverter }),
    connection,
    pool,
    policy: () => options.policy,
    taskQueue: options.taskQueue,
    jwtSecret: DEVELOPMENT_JWT_SECRET,
    log: createLogger('silent', 'bench-api'),
    keyRing: benchKeyRing,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    token: await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'bench-clerk', role: 'clerk' }),
    pool,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await connection.close();
      await pool.end();
    },
  };
}

/**
 * The HTTP API as production runs it: `api/server.ts` (`npm run api`) in a process of its own, on
 * the stack's Temporal server and database, so that the load generator's HTTP client does not share
 * the API's event loop. The policy is the default one (no POLICY_FILE).
 */
export async function startApiProcess(stack: Stack, options: { taskQueue: string; poolMax?: number }): Promise<RunningApi> {
  const port = await freePort();
  let stderr = '';
  // BENCH_API_CPU_PROF=<dir>: the API process writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_API_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_API_CPU_PROF] : [];
  const api = spawnOwned('api', process.execPath, [...profile, '--import', 'tsx', path.join(__dirname, '..', 'api', 'server.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      DATABASE_URL: stack.databaseUrl,
      PG_POOL_MAX: String(options.poolMax ?? 10),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    onLine: (line, stream) => {
      if (stream === 'stderr') stderr = `${stderr}${line}\n`.slice(-4_000);
    },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor('the API process', async () => (await fetch(`${baseUrl}/health`)).ok, { timeoutMs: 60_000, aborted: api.exited });
  } catch (err) {
    await api.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  const pool = createPool(stack.databaseUrl, { max: 2 });
  return {
    baseUrl,
    token: await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'bench-clerk', role: 'clerk' }),
    pool,
    async stop() {
      await api.stop();
      await pool.end();
    },
  };
}

/** CPU seconds (user + system) so far of this process and its descendants, by role. */
export type CpuByRole = Record<'bench' | 'api' | 'temporal' | 'postgres' | 'other', number>;

/**
 * Reads /proc (Linux): this process ("bench": the load generator, bare client, in-process workers),
 * and every descendant, by what it runs: an `api/server.ts` process, the Temporal dev server this
 * run started, the embedded PostgreSQL's processes. Null where /proc is not there. A server given
 * by TEMPORAL_ADDRESS or DATABASE_URL is not a descendant, so its share is not counted.
 */
export function cpuByRole(): CpuByRole | null {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const ticks = 100; // USER_HZ on Linux
  const info = new Map<number, { ppid: number; cpu: number; comm: string; cmdline: string }>();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      info.set(Number(pid), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / ticks, comm, cmdline });
    } catch {
      /* gone meanwhile */
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = info.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const out: CpuByRole = { bench: 0, api: 0, temporal: 0, postgres: 0, other: 0 };
  for (const [pid, p] of info) {
    if (!isDescendant(pid)) continue;
    const role: keyof CpuByRole =
      pid === process.pid ? 'bench'
      : p.cmdline.includes('api/server.ts') ? 'api'
      : p.comm.startsWith('temporal') ? 'temporal'
      : p.comm === 'postgres' ? 'postgres'
      : 'other';
    out[role] += p.cpu;
  }
  return out;
}

/** CPU seconds per `per` operations, by role, between two readings. */
export function cpuPer(before: CpuByRole | null, after: CpuByRole | null, operations: number, per = 1000): CpuByRole | null {
  if (!before || !after || operations === 0) return null;
  const k = per / operations;
  return {
    bench: (after.bench - before.bench) * k,
    api: (after.api - before.api) * k,
    temporal: (after.temporal - before.temporal) * k,
    postgres: (after.postgres - before.postgres) * k,
    other: (after.other - before.other) * k,
  };
}

/** POST (or GET) JSON; throws on a status outside 2xx, naming it. */
export async function http(
  method: 'GET' | 'POST',
  url: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return { status: res.status, body: parsed };
}

// ---- Load ----

export interface LoadResult {
  completed: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  /** Latency of each completed operation, in ms. */
  latencies: number[];
  perSecond: number;
}

/**
 * Run `op(0..count-1)` with `concurrency` operations in flight, until `count` are done or
 * `durationMs` has passed (whichever first): every loop here is bounded in count and time.
 */
export async function runLoad(
  options: { concurrency: number; count: number; durationMs: number },
  op: (i: number) => Promise<unknown>,
): Promise<LoadResult> {
  const started = performance.now();
  const until = started + options.durationMs;
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (next < options.count && performance.now() < until) {
      const i = next++;
      const t0 = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  const elapsedMs = performance.now() - started;
  return { completed: latencies.length, errors, firstError, elapsedMs, latencies, perSecond: (latencies.length / elapsedMs) * 1000 };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` until it is true, at most `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${Math.round(timeoutMs / 1000)} s`);
    await sleep(intervalMs);
  }
}

// ---- Reporting ----

export const fmt = {
  n: (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'),
  ms: (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : 'n/a'),
  mib: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`,
};

/** The machine and servers the figures come from, as Markdown list lines. */
export function machineLines(stack: Stack): string[] {
  const cpus = os.cpus();
  return [
    `- machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${fmt.n(os.totalmem() / 1024 ** 3, 1)} GiB memory, ${os.type()} ${os.release()}`,
    `- load average when the run started: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min; the machine is shared)`,
    `- node ${process.version}, @temporalio/* ${require('@temporalio/worker/package.json').version}`,
    `- Temporal server ${stack.serverVersion}: ${stack.temporalKind}`,
    `- PostgreSQL: ${stack.postgresKind}`,
  ];
}

/** The command line that reproduces this run. */
export function commandLine(script: string): string {
  const env = process.env.TEMPORAL_ADDRESS ? `TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS} ` : '';
  const args = process.argv.slice(2);
  return `${env}npm run ${script}${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

/** Print one benchmark's Markdown section: title, command, machine, then the figures. */
export function printSection(title: string, script: string, machine: string[], body: string[]): void {
  const lines = [`## ${title}`, '', `Command: \`${commandLine(script)}\``, '', ...machine, '', ...body, ''];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Run a benchmark's main function: a failure prints and exits non-zero, and the process always ends. */
export function main(fn: () => Promise<void>): void {
  fn().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`benchmark failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}

/** Progress on stderr, so that stdout holds only the figures. */
export function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
