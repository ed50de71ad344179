import { loadConfigOrExit } from './config';
import { createLogger } from './logger';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';

/** `npm run migrate`: apply pending migrations to DATABASE_URL and exit. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL, 'migrate');
  if (!config.DATABASE_URL) {
    log.fatal('DATABASE_URL is required for npm run migrate');
    process.exit(78);
  }
  const pool = createPool(config.DATABASE_URL, { max: 1 });
  try {
    const applied = await migrate(pool, (msg) => log.info(msg));
    log.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
  } finally {
    await pool.end();
  }
}

main().catch((err) => {
  process.stderr.write(`migrate failed: ${(err as Error).message}\n`);
  process.exit(1);
});
