import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { workflowIdFor, type ComplaintInput } from '../domain/case';
import { casePolicy, defaultPolicy } from '../domain/policy';
import { statusQuery, supplementUpdate } from '../workflows/contracts/complaint';
import { complaintWorkflow } from '../workflows/complaint';
import { clerk, intake, nextCaseId } from './support/complaint-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createTestWorker, quietRuntime, testDataConverter, testReporterKeys, uniqueTaskQueue } from './support/temporal';

/**
 * A regression guard for a lost wake-up in the complaint workflow's main loop. An update handler
 * (supplement) waits for findRelatedCase while the main loop projects the event it emitted. When both
 * activities complete into one workflow task, projectCase first, the loop used to take its "nothing
 * changed" snapshot after the handler had already emitted the next events: they were never
 * projected, and the update (which returns once its events are in the read model) hung until the
 * next timer, days later. The API turned that into a 503.
 *
 * The test makes that interleaving happen on purpose, on the real dev server: the workflow worker is
 * stopped while the two activities are held, they are completed in that order, and a new workflow
 * worker receives both completions in one activation.
 */

const { EventType } = temporal.api.enums.v1;

/** Holds the next call of an activity until released. */
class Hold {
  private armed = false;
  private arrive!: () => void;
  private releaseNow!: () => void;
  readonly arrived = new Promise<void>((r) => (this.arrive = r));
  private readonly released = new Promise<void>((r) => (this.releaseNow = r));

  arm(): void {
    this.armed = true;
  }
  release(): void {
    this.releaseNow();
  }
  wrap<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      if (this.armed) {
        this.armed = false;
        this.arrive();
        await this.released;
      }
      return fn(...args);
    };
  }
}

let db: TestDatabase;
let connection: Connection;
let nativeConnection: NativeConnection;
let client: Client;

beforeAll(async () => {
  quietRuntime();
  const address = process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('ECOLOOP_TEST_TEMPORAL_ADDRESS is not set: run the tests with `npm test`.');
  db = await createTestDatabase();
  connection = await Connection.connect({ address });
  nativeConnection = await NativeConnection.connect({ address });
  client = new Client({ connection, dataConverter: testDataConverter });
});
afterAll(async () => {
  await nativeConnection?.close();
  await connection?.close();
  await db?.drop();
});

/** A worker that runs workflows only, with no cache, so every task goes through the shared queue. */
async function runWorkflowWorker(taskQueue: string) {
  const worker = await createTestWorker({
    connection: nativeConnection,
    taskQueue,
    pool: db.pool,
    overrides: { activities: {}, maxCachedWorkflows: 0 },
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

test('when the projection and a handler activity complete into one workflow task, then the events the handler emitted are still projected and its update returns', async () => {
  const taskQueue = uniqueTaskQueue('wakeup');
  const projectHold = new Hold();
  const relatedHold = new Hold();
  const real = createActivities(db.pool, { client, reporterKeys: testReporterKeys });
  const activityWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    activities: { ...real, projectCase: projectHold.wrap(real.projectCase), findRelatedCase: relatedHold.wrap(real.findRelatedCase) },
    dataConverter: testDataConverter,
  });
  const activitiesRunning = activityWorker.run();
  let workflows = await runWorkflowWorker(taskQueue);
  let timer: NodeJS.Timeout | undefined;
  const caseId = nextCaseId();
  try {
    const i = intake({ missing: ['contact'] });
    const input: ComplaintInput = {
      caseId,
      intake: i,
      receivedAt: Date.now(),
      owner: clerk,
      policy: casePolicy(defaultPolicy, i.category, i.urgency),
    };
    const handle = await client.workflow.start(complaintWorkflow, { taskQueue, workflowId: workflowIdFor(caseId), args: [input] });
    await waitUntil(
      async () =>
        (await handle.query(statusQuery)).status === 'awaiting_supplement' && (await handle.query(statusQuery)).timeline.length > 0,
    );
    await waitUntil(async () => completedActivities(await handle.fetchHistory()).length >= 1); // the registration is projected

    // The supplement: its handler asks findRelatedCase, the main loop projects 'supplemented'. Hold both.
    projectHold.arm();
    relatedHold.arm();
    const update = handle.executeUpdate(supplementUpdate, {
      args: [{ actor: clerk, reporter: { phone: '13900000000' }, note: 'phone given later' }],
    });
    update.catch(() => undefined);
    await Promise.all([projectHold.arrived, relatedHold.arrived]);
    await workflows.stop();

    // Complete them in this order while no workflow worker polls: one workflow task will carry both.
    const before = completedActivities(await handle.fetchHistory()).length;
    projectHold.release();
    await waitUntil(async () => completedActivities(await handle.fetchHistory()).length === before + 1);
    relatedHold.release();
    await waitUntil(async () => completedActivities(await handle.fetchHistory()).length === before + 2);
    const history = await handle.fetchHistory();
    const [first, second] = completedActivities(history).slice(before);
    expect(activityTypeOf(history, first)).toBe('projectCase');
    expect(activityTypeOf(history, second)).toBe('findRelatedCase');
    const startedBetween = history.events!.filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED &&
        Number(e.eventId) > Number(first.eventId) &&
        Number(e.eventId) < Number(second.eventId),
    );
    expect(startedBetween).toEqual([]); // the setup worked: no workflow task ran between the two completions

    workflows = await runWorkflowWorker(taskQueue);
    const view = await Promise.race([
      update,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the supplement update did not return within 20 s')), 20_000);
      }),
    ]);
    expect(view.status).toBe('pending_acceptance');
    expect(view.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['supplemented', 'registered_for_acceptance']));
    const projected = await db.pool.query<{ status: string }>('SELECT status FROM cases WHERE case_id = $1', [caseId]);
    expect(projected.rows).toEqual([{ status: 'pending_acceptance' }]);
  } finally {
    clearTimeout(timer);
    // Ends a still-pending update's long poll before the connections close.
    await client.workflow
      .getHandle(workflowIdFor(caseId))
      .terminate('test over')
      .catch(() => undefined);
    await workflows.stop();
    activityWorker.shutdown();
    await activitiesRunning;
  }
});

function completedActivities(history: temporal.api.history.v1.IHistory) {
  return (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
}

function activityTypeOf(
  history: temporal.api.history.v1.IHistory,
  completed: temporal.api.history.v1.IHistoryEvent,
): string | null | undefined {
  const scheduledId = completed.activityTaskCompletedEventAttributes!.scheduledEventId;
  const scheduled = history.events!.find((e) => Number(e.eventId) === Number(scheduledId));
  return scheduled?.activityTaskScheduledEventAttributes?.activityType?.name;
}

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}
