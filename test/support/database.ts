import { randomBytes } from 'node:crypto';
import { createPool, type Pool } from '../../db/pool';
import { migrate } from '../../db/migrate';
import { createScratchDatabase } from './scratch-database';
import { seedTestUnits } from './units';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.ECOLOOP_TEST_PG_ADMIN_URL;
  if (!url) throw new Error('ECOLOOP_TEST_PG_ADMIN_URL is not set: run the tests with `npm test` (jest globalSetup).');
  return url;
}

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const scratch = await createScratchDatabase(adminUrl(), `ecoloop_t_${randomBytes(6).toString('hex')}`);
  const pool = createPool(scratch.url, { max: 5 });
  await migrate(pool);
  await seedTestUnits(pool);
  return {
    url: scratch.url,
    pool,
    async drop() {
      await pool.end();
      await scratch.drop();
    },
  };
}
