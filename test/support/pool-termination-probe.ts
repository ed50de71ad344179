import { Client } from 'pg';
import { createPool } from '../../db/pool';

/**
 * For test/pool.test.ts, in a process of its own (an unhandled 'error' event ends the process, and
 * only a process of its own shows it): check a client out of the pool, open a transaction, have
 * PostgreSQL terminate its connection (FATAL 57P01, as in a shutdown), then ask the pool again.
 * Prints `survived` and exits 0 when the process lived through it. Environment: DATABASE_URL.
 */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL!;
  const pool = createPool(url, { max: 2 });
  const held = await pool.connect();
  const { rows } = await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await held.query('BEGIN');
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
  await admin.end();
  await new Promise((r) => setTimeout(r, 500)); // the FATAL message arrives while nothing runs on `held`
  const failed = await held.query('SELECT 1').then(
    () => false,
    () => true,
  );
  held.release(true);
  const next = await pool.query<{ one: number }>('SELECT 1 AS one');
  await pool.end();
  process.stdout.write(`${failed && next.rows[0].one === 1 ? 'survived' : 'wrong'}\n`);
}

main().catch((err) => {
  process.stderr.write(`probe failed: ${(err as Error).stack ?? err}\n`);
  process.exit(2);
});
