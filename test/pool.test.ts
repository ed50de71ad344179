import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from './support/database';

/**
 * A PostgreSQL restart or shutdown ends every connection with FATAL 57P01. A connection checked out
 * of the pool at that moment (between two queries of a transaction, say while the notification
 * sender waits on a webhook) must not take the process down: pg emits 'error' on the client, and an
 * 'error' event nobody listens to ends the process. The fault-injection run saw the worker die so.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

test('when PostgreSQL terminates a connection that is checked out of the pool, then the process lives, that connection fails its next query, and the pool serves the next one', async () => {
  const root = path.resolve(__dirname, '..');
  const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'test/support/pool-termination-probe.ts')], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: db.url },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  expect({ code: run.code, stdout: run.stdout.trim(), crash: run.stderr.match(/terminating connection[^\n]*/)?.[0] }).toEqual({
    code: 0,
    stdout: 'survived',
    crash: undefined,
  });
});
