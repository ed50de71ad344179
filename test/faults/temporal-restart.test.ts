import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTemporalDevServer, type DevServer } from '../../runtime/temporal-dev-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
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
 * The Temporal dev server of this test (its own, on a persistent SQLite file) is stopped while
 * cases are being registered and decided, stays down for a while (the API answers 503 and the
 * driver retries), and comes back on the same file and port. The worker and the API stay up and
 * reconnect by themselves.
 */

const COUNT = 200;
/** Longer than the API's Temporal timeout (10 s), so that requests in flight get their 503. */
const OUTAGE_MS = 15_000;

let dir: string;
let server: DevServer;
let port: number;
let db: TestDatabase;
let receiver: Receiver;
let api: InProcessApi;
let worker: FaultWorker;
const taskQueue = uniqueTaskQueue('fault-temporal');

const startServer = () => startTemporalDevServer({ cli: process.env.TEMPORAL_CLI_PATH!, port, dbFile: path.join(dir, 'temporal.sqlite') });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecoloop-fault-temporal-'));
  port = await freePort();
  server = await startServer();
  db = await createTestDatabase();
  receiver = await startReceiver();
  api = await startApi({ temporalAddress: server.address, pool: db.pool, taskQueue });
  worker = new FaultWorker({
    TEMPORAL_ADDRESS: server.address,
    DATABASE_URL: db.url,
    TEMPORAL_TASK_QUEUE: taskQueue,
    NOTIFICATION_WEBHOOK_URL: receiver.url,
  });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
  await receiver?.close();
  await server?.stop();
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('when the Temporal server is stopped mid-run and restarted on its database, then every case finishes and no case, event, notification or reward payment is lost or doubled', async () => {
  const t = await tokens();
  const driver = new Driver(api.baseUrl, t, COUNT);
  const driving = driver.drive();

  await driver.whenRegistered(COUNT / 3);
  const down = Date.now();
  await server.stop();
  // While it is down, the API says so: a 503 problem document (after its Temporal timeout), and nothing is numbered or started.
  const register = await request(
    api.baseUrl,
    'POST',
    '/v1/complaints',
    t.clerk,
    { channel: 'web', category: 'water', divisionCode: '370102', title: 'During the outage', description: 'Oil on the river.' },
    'temporal-outage-registration-1',
  );
  expect(register).toMatchObject({ status: 503, contentType: expect.stringContaining('application/problem+json'), body: { status: 503 } });
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)));
  server = await startServer();

  await driving.catch((err: Error) => Promise.reject(new Error(`${err.message}\nThe worker's last output:\n${worker.lastOutput()}`)));
  const verdict = await verifyNothingLostOrDoubled({
    client: api.client,
    pool: db.pool,
    receiver,
    taskQueue,
    caseIds: driver.caseIds,
    rewardedCaseIds: driver.rewardedCaseIds,
    count: COUNT,
    // The notification sender needs only PostgreSQL: it was never cut off, so each key goes out exactly once.
    maxRedeliveries: 0,
  });
  expect(driver.statuses.get(503) ?? 0).toBeGreaterThan(0);
  expect(driver.unexpected).toEqual([]);
  process.stdout.write(
    `temporal restart: ${JSON.stringify({ ...verdict, statuses: Object.fromEntries(driver.statuses), networkErrors: driver.networkErrors, serverErrors: driver.serverErrors })}\n`,
  );
});
