import { loadConfigOrExit } from './config';
import { createLogger } from './logger';
import { reporterIndexFromConfig } from './reporter-index';
import { reporterKeyRingFromConfig } from './reporter-seal';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { reindexReporters } from '../db/reporters';

/**
 * `npm run reporters:reindex`: index every reporter under the current REPORTER_INDEX_KEY_ID (after
 * a new index key was made current; every worker start does the same), then exit. Prints counts
 * only, never a reporter. Exits 1 when some rows did not open (their reporter key left the ring).
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL, 'reporters-reindex');
  if (!config.DATABASE_URL) {
    log.fatal('DATABASE_URL is required for npm run reporters:reindex');
    process.exit(78);
  }
  const pool = createPool(config.DATABASE_URL, { max: 1 });
  try {
    await migrate(pool, (msg) => log.info(msg));
    const index = reporterIndexFromConfig(config);
    const result = await reindexReporters(pool, reporterKeyRingFromConfig(config), index);
    log.info({ ...result, indexKeyId: index.currentKeyId }, 'reporters indexed under the current index key');
    if (result.unreadable) {
      log.error(result, 'some reporters did not open: their key is no longer in REPORTER_KEYS or ENCRYPTION_KEYS');
      process.exitCode = 1;
    }
  } finally {
    await pool.end();
  }
}

main().catch((err) => {
  process.stderr.write(`reporters:reindex failed: ${(err as Error).message}\n`);
  process.exit(1);
});
