import { createTestDatabase, type TestDatabase } from '../support/database';
import { uniqueTaskQueue } from '../support/temporal';
import {
  Driver,
  FaultWorker,
  sleep,
  startApi,
  startReceiver,
  tokens,
  verifyNothingLostOrDoubled,
  type InProcessApi,
  type Receiver,
} from './fault-run';

/**
 * kill -9 of the worker process (workflows, activities and the notification sender die together)
 * twice: once while cases are being registered and decided, once right after the last decision
 * while the callback and archive timers are pending. A new worker process takes over each time.
 */

const COUNT = 200;

let db: TestDatabase;
let receiver: Receiver;
let api: InProcessApi;
let worker: FaultWorker;
const taskQueue = uniqueTaskQueue('fault-kill');

beforeAll(async () => {
  const address = process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS!;
  db = await createTestDatabase();
  receiver = await startReceiver();
  api = await startApi({ temporalAddress: address, pool: db.pool, taskQueue });
  worker = new FaultWorker({
    TEMPORAL_ADDRESS: address,
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
  await db?.drop();
});

test('when the worker is killed with SIGKILL mid-run and restarted, then every case finishes and no case, event, notification or reward payment is lost or doubled', async () => {
  const driver = new Driver(api.baseUrl, await tokens(), COUNT);
  const driving = driver.drive();

  await driver.whenRegistered(COUNT / 3);
  await worker.kill9();
  await sleep(2_000);
  await worker.start();

  await driving.catch((err: Error) => Promise.reject(new Error(`${err.message}\nThe worker's last output:\n${worker.lastOutput()}`)));
  // The second kill: every decision is taken, the timers (callback windows, monitoring windows) are pending.
  await worker.kill9();
  await sleep(2_000);
  await worker.start();

  const verdict = await verifyNothingLostOrDoubled({
    client: api.client,
    pool: db.pool,
    receiver,
    taskQueue,
    caseIds: driver.caseIds,
    rewardedCaseIds: driver.rewardedCaseIds,
    count: COUNT,
    // At-least-once delivery: only the outbox batch in flight at each kill (at most 50 rows) may go out again.
    maxRedeliveries: worker.kills * 50,
  });
  expect(worker.kills).toBe(2);
  expect(driver.unexpected).toEqual([]);
  process.stdout.write(
    `worker kill: ${JSON.stringify({ ...verdict, kills: worker.kills, statuses: Object.fromEntries(driver.statuses), serverErrors: driver.serverErrors })}\n`,
  );
});
