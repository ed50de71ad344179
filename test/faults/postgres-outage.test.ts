import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPool, type Pool } from '../../db/pool';
import { migrate } from '../../db/migrate';
import { seedTestUnits } from '../support/units';
import { workflowIdFor } from '../../domain/case';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../runtime/embedded-postgres';
import { freePort } from '../support/ports';
import { uniqueTaskQueue } from '../support/temporal';
import {
  Driver,
  FaultWorker,
  request,
  sleep,
  startApi,
  startReceiver,
  tokens,
  verifyNothingLostOrDoubled,
  type InProcessApi,
  type Receiver,
} from './fault-run';

/**
 * PostgreSQL (an embedded one of this test, so that it can be stopped) goes down while cases are
 * being registered and decided, and comes back on the same data and port. Meanwhile the API
 * answers 503 problem documents, the projection activities fail and retry, and the notification
 * sender waits; once it is back, nothing is missing from the projection.
 */

const COUNT = 200;
const OUTAGE_MS = 10_000;
/** How long the outage may last while the test waits to see an activity retrying. */
const RETRY_SEEN_WITHIN_MS = 60_000;

let pgDir: string;
let pgPort: number;
let pg: EmbeddedPostgres;
let pool: Pool;
let receiver: Receiver;
let api: InProcessApi;
let worker: FaultWorker;
const taskQueue = uniqueTaskQueue('fault-pg');

const startPostgres = () => startEmbeddedPostgres({ dataDir: path.join(pgDir, 'data'), port: pgPort, database: 'ecoloop_faults' });

beforeAll(async () => {
  const address = process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS!;
  pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-fault-pg-'));
  fs.chmodSync(pgDir, 0o755);
  pgPort = await freePort();
  pg = await startPostgres();
  pool = createPool(pg.url, { max: 10 });
  await migrate(pool);
  await seedTestUnits(pool);
  receiver = await startReceiver();
  api = await startApi({ temporalAddress: address, pool, taskQueue });
  worker = new FaultWorker({
    TEMPORAL_ADDRESS: address,
    DATABASE_URL: pg.url,
    TEMPORAL_TASK_QUEUE: taskQueue,
    NOTIFICATION_WEBHOOK_URL: receiver.url,
  });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
  await receiver?.close();
  await pool?.end();
  await pg?.stop();
  if (pgDir) fs.rmSync(pgDir, { recursive: true, force: true });
});

/**
 * Whether the worker is retrying a projection: the projection is a local activity (run in the
 * workflow task, so not among a workflow's pending activities), and the worker logs each failed
 * attempt; a second attempt is a retry.
 */
function projectionRetrying(): boolean {
  return worker.output.some((line) => line.includes('"activityType":"projectCase"') && /"attempt":([2-9]|\d{2,})\b/.test(line));
}

/** Whether some registered case has a pending activity that has already failed and is being retried. */
async function someActivityRetrying(caseIds: string[]): Promise<boolean> {
  for (const id of caseIds.filter(Boolean)) {
    const d = await api.client.workflow.getHandle(workflowIdFor(id)).describe();
    if ((d.raw.pendingActivities ?? []).some((a) => (a.attempt ?? 0) >= 2 && a.lastFailure)) return true;
  }
  return false;
}

test('when PostgreSQL stops mid-run, then the API answers 503, activities retry, and once it is back every case finishes with no case, event, notification or reward payment lost or doubled', async () => {
  const t = await tokens();
  const driver = new Driver(api.baseUrl, t, COUNT);
  const driving = driver.drive();

  await driver.whenRegistered(COUNT / 3);
  await pg.stop();
  // From the moment it is down: a shutdown's checkpoint can take seconds on a busy machine.
  const down = Date.now();

  // Registering and listing need the database: 503 problem documents, and nothing is created.
  const register = await request(
    api.baseUrl,
    'POST',
    '/v1/complaints',
    t.clerk,
    { channel: 'web', category: 'water', divisionCode: '370102', title: 'During the outage', description: 'Oil on the river.' },
    'outage-registration-1',
  );
  expect(register).toMatchObject({ status: 503, contentType: expect.stringContaining('application/problem+json'), body: { status: 503 } });
  const list = await request(api.baseUrl, 'GET', '/v1/complaints', t.clerk);
  expect(list).toMatchObject({ status: 503, contentType: expect.stringContaining('application/problem+json'), body: { status: 503 } });

  // The projections (local activities) and activities in flight fail and are retried (not given up) while it is down. The
  // outage lasts until a retry is seen (the cases' seconds-scale timers keep projections coming).
  let retrying = false;
  while (!retrying && Date.now() - down < RETRY_SEEN_WITHIN_MS) {
    retrying = projectionRetrying() || (await someActivityRetrying(driver.caseIds));
    if (!retrying) await sleep(500);
  }
  expect(retrying).toBe(true);
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)));
  pg = await startPostgres();

  await driving.catch((err: Error) => Promise.reject(new Error(`${err.message}\nThe worker's last output:\n${worker.lastOutput()}`)));
  const verdict = await verifyNothingLostOrDoubled({
    client: api.client,
    pool,
    receiver,
    taskQueue,
    caseIds: driver.caseIds,
    rewardedCaseIds: driver.rewardedCaseIds,
    count: COUNT,
    // At-least-once delivery: the batch whose transaction the outage broke (at most 50 rows) may go out again.
    maxRedeliveries: 50,
  });
  expect(driver.statuses.get(503) ?? 0).toBeGreaterThan(0);
  expect(driver.unexpected).toEqual([]);
  process.stdout.write(
    `postgres outage: ${JSON.stringify({ ...verdict, statuses: Object.fromEntries(driver.statuses), networkErrors: driver.networkErrors, serverErrors: driver.serverErrors })}\n`,
  );
});
