import { Pool, type PoolConfig } from 'pg';

export type { Pool } from 'pg';

export function createPool(connectionString: string, options: PoolConfig = {}): Pool {
  const pool = new Pool({
    connectionString,
    max: 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'ecoloop',
    ...options,
  });
  // An idle client losing its connection (database restart) must not crash the process: the pool
  // drops it and the next query reconnects.
  pool.on('error', () => undefined);
  // Nor one that is checked out between two queries (a transaction waiting on a webhook, say): the
  // pool listens to its idle clients only, and an 'error' event nobody listens to ends the process.
  // Its next query fails instead, and whoever holds it releases it with that error.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** PostgreSQL error codes that mean "the database is not there right now", not "your query is wrong". */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

export function isDatabaseUnavailable(err: unknown): boolean {
  // Not `instanceof Error`: socket errors are made in node's own realm, which differs under jest's vm.
  if (typeof err !== 'object' || err === null || typeof (err as Error).message !== 'string') return false;
  const code = (err as { code?: string }).code;
  if (code && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    (err as Error).message,
  );
}
