import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { mintToken } from '../api/auth';
import { createPool, type Pool } from '../db/pool';
import type { Policy } from '../domain/policy';
import { spawnOwned, waitFor } from '../runtime/child-process';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { createLogger } from '../runtime/logger';
import { startInProcessApi } from '../test/support/api';
import { freePort } from '../test/support/ports';
import { NAMESPACE, benchDataConverter, benchKeyRing, type Stack } from './stack';

/** EcoLoop's HTTP API for a benchmark: in this process, or in a process of its own as production runs it; and a JSON caller. */

export interface RunningApi {
  baseUrl: string;
  /** A clerk's bearer token. */
  token: string;
  pool: Pool;
  stop(): Promise<void>;
}

/** The HTTP API in this process (the testkit's starter), with its own Temporal connection and pool. */
export async function startApi(stack: Stack, options: { taskQueue: string; policy: Policy; poolMax?: number }): Promise<RunningApi> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const pool = createPool(stack.databaseUrl, { max: options.poolMax ?? 10 });
  const api = await startInProcessApi({
    client: new Client({ connection, namespace: NAMESPACE, dataConverter: benchDataConverter }),
    connection,
    pool,
    policy: () => options.policy,
    taskQueue: options.taskQueue,
    log: createLogger('silent', 'bench-api'),
    keyRing: benchKeyRing,
  });
  return {
    baseUrl: api.baseUrl,
    token: await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'bench-clerk', role: 'clerk' }),
    pool,
    async stop() {
      await api.stop();
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
    throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
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
