import type { Pool, PoolClient } from 'pg';

export interface TransactionOptions {
  /** `BEGIN READ ONLY`: a consistent snapshot for reports that read several tables. */
  readOnly?: boolean;
}

/**
 * Run `work` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws
 * (the error is rethrown), and the connection back to the pool either way. The one transaction
 * helper: repositories never write BEGIN themselves.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      broken = rollbackErr; // the connection is gone: do not hand it back to the pool
    });
    throw err;
  } finally {
    client.release(broken instanceof Error ? broken : undefined);
  }
}
