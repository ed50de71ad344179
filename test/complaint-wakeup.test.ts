import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { workflowIdFor, type ComplaintInput } from '../domain/case';
import { casePolicy, defaultPolicy } from '../domain/policy';
import { supplementUpdate } from '../workflows/contracts/complaint';
import { complaintWorkflow } from '../workflows/complaint';
import { clerk, intake, nextCaseId } from './support/complaint-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import {
  connectToDevServer,
  createTestWorker,
  quietRuntime,
  testDataConverter,
  testReporterKeys,
  uniqueTaskQueue,
} from './support/temporal';

/**
 * A regression guard for a lost wake-up in the complaint workflow's main loop. An update handler
 * (supplement) waits for findRelatedCase while the main loop projects the event it emitted. Before the
 * `wake-on-changes-during-projection` patch, when both completed into one workflow task, the loop
 * took its "nothing changed" snapshot after the handler had already emitted the next events: they
 * were never projected, and the update (which returns once its events are in the read model) hung
 * until the next timer. That interleaving needed the projection to be a regular activity; since the
 * `project-in-workflow-task` patch it is a local activity, and cases in flight before it are guarded
 * by the stored histories (test/replay.test.ts). The test now completes findRelatedCase while the
 * local projection is held, on the real dev server, and checks that the update still returns.
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
  db = await createTestDatabase();
  ({ connection, nativeConnection, client } = await connectToDevServer());
});
afterAll(async () => {
  await nativeConnection?.close();
  await connection?.close();
  await db?.drop();
});

test('when the projection and a handler activity complete while the other is still running, then the events the handler emitted are still projected and its update returns', async () => {
  // Since the project-in-workflow-task patch the projection is a local activity, run by the workflow
  // worker inside the workflow task; findRelatedCase is a regular one, run by another worker. The
  // supplement's handler waits for findRelatedCase while the main loop projects 'supplemented':
  // findRelatedCase completes while the projection is held, then the projection is released.
  const taskQueue = uniqueTaskQueue('wakeup');
  const projectHold = new Hold();
  const relatedHold = new Hold();
  const real = createActivities(db.pool, { client, reporterKeys: testReporterKeys });
  const activityWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    activities: { findRelatedCase: relatedHold.wrap(real.findRelatedCase) },
    dataConverter: testDataConverter,
  });
  const activitiesRunning = activityWorker.run();
  const workflowWorker = await createTestWorker({
    connection: nativeConnection,
    taskQueue,
    pool: db.pool,
    overrides: {
      activities: { ...real, projectCase: projectHold.wrap(real.projectCase) },
      enableNonLocalActivities: false,
    },
  });
  const workflowsRunning = workflowWorker.run();
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
    await waitUntil(async () => (await db.pool.query('SELECT 1 FROM cases WHERE case_id = $1', [caseId])).rowCount === 1); // the registration is projected

    projectHold.arm();
    relatedHold.arm();
    const update = handle.executeUpdate(supplementUpdate, {
      args: [{ actor: clerk, reporter: { phone: '13900000000' }, note: 'phone given later' }],
    });
    update.catch(() => undefined);
    await Promise.all([projectHold.arrived, relatedHold.arrived]);
    const before = completedActivities(await handle.fetchHistory()).length;
    relatedHold.release();
    await waitUntil(async () => completedActivities(await handle.fetchHistory()).length === before + 1);
    projectHold.release();

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
    await client.workflow
      .getHandle(workflowIdFor(caseId))
      .terminate('test over')
      .catch(() => undefined);
    workflowWorker.shutdown();
    await workflowsRunning;
    activityWorker.shutdown();
    await activitiesRunning;
  }
});

function completedActivities(history: temporal.api.history.v1.IHistory) {
  return (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
}

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}
