import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { getCase, getTimeline, listProjectionDeadLetters } from '../db/cases';
import { LEAN_START, workflowIdFor, type CaseView, type ComplaintInput } from '../domain/case';
import { casePolicy, defaultPolicy, type CasePolicy } from '../domain/policy';
import { attentionKey, caseStatusKey, nextDeadlineKey } from '../domain/search-attributes';
import { createLogger } from '../runtime/logger';
import { workerMetrics } from '../worker/metrics';
import { replayProjection } from '../worker/projection-replay';
import { acceptUpdate, forwardUpdate, reviewUpdate, statusQuery, submitResultUpdate } from '../workflows/contracts/complaint';
import { complaintWorkflow } from '../workflows/complaint';
import { clerk, intake, nextCaseId, unit, type ComplaintHandle } from './support/complaint-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import { connectToDevServer, createTestWorker, quietRuntime, uniqueTaskQueue } from './support/temporal';

/**
 * The case write path on the real dev server and a real PostgreSQL: a decision costs one workflow
 * task (the projection is a local activity) and returns once its events are in the read model; a
 * value the read model refuses does not wedge the case; the search attributes are exact when a
 * case completes; timer events are never dated before the case.
 */

const { EventType } = temporal.api.enums.v1;

let db: TestDatabase;
let connection: Connection;
let nativeConnection: NativeConnection;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;

beforeAll(async () => {
  quietRuntime();
  db = await createTestDatabase();
  ({ connection, nativeConnection, client } = await connectToDevServer());
  taskQueue = uniqueTaskQueue('write-path');
  worker = await createTestWorker({ connection: nativeConnection, taskQueue, pool: db.pool, activityDeps: { client } });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await nativeConnection?.close();
  await connection?.close();
  await db?.drop();
});

function start(
  overrides: Parameters<typeof intake>[0] = {},
  options: { receivedAt?: number; policy?: (p: CasePolicy) => void; beforeLeanStart?: boolean } = {},
): Promise<ComplaintHandle> {
  const i = intake(overrides);
  const caseId = nextCaseId();
  const policy = casePolicy(defaultPolicy, i.category, i.urgency);
  options.policy?.(policy);
  const input: ComplaintInput = {
    caseId,
    intake: i,
    receivedAt: options.receivedAt ?? Date.now(),
    owner: clerk,
    policy,
    ...(!options.beforeLeanStart && { writePath: LEAN_START }),
  };
  // Started as the API would, but without its validation: whatever value the test gives reaches the workflow.
  return client.workflow.start(complaintWorkflow, { taskQueue, workflowId: workflowIdFor(caseId), args: [input] });
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const caseIdOf = (h: ComplaintHandle) => h.workflowId.replace(/^complaint-/, '');
const types = (v: { timeline: { type: string }[] }) => v.timeline.map((e) => e.type);

async function attributesOf(h: ComplaintHandle) {
  const d = await h.describe();
  return {
    status: d.status.name,
    EcoStatus: d.typedSearchAttributes.get(caseStatusKey) ?? null,
    EcoNextDeadline: d.typedSearchAttributes.get(nextDeadlineKey) ?? null,
    EcoAttention: d.typedSearchAttributes.get(attentionKey) ?? null,
  };
}

function countOf(history: temporal.api.history.v1.IHistory, type: temporal.api.enums.v1.EventType): number {
  return (history.events ?? []).filter((e) => e.eventType === type).length;
}

test('when a decision is made, then it costs one workflow task with no regular activity, and its events are in PostgreSQL when the update returns', async () => {
  const handle = await start();
  const caseId = caseIdOf(handle);
  await waitUntil('the registration in the read model', async () => (await getCase(db.pool, caseId))?.view.status === 'pending_acceptance');
  // The read model has it before the workflow task that projected it completes: wait for that too.
  const before = await waitUntil('no workflow task in flight', async () => {
    const h = await handle.fetchHistory();
    return countOf(h, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) === countOf(h, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) && h;
  });

  const view = await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
  // Read-your-writes: the read model has the decision the moment the update returns.
  expect(view.status).toBe('handling');
  expect((await getCase(db.pool, caseId))?.view.status).toBe('handling');
  expect((await getTimeline(db.pool, caseId)).map((e) => e.type)).toContain('accepted');

  const after = await handle.fetchHistory();
  const added = (type: temporal.api.enums.v1.EventType) => countOf(after, type) - countOf(before, type);
  expect({
    workflowTasks: added(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    activities: added(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    localActivityMarkers: added(EventType.EVENT_TYPE_MARKER_RECORDED),
  }).toEqual({ workflowTasks: 1, activities: 0, localActivityMarkers: 1 });
  await handle.terminate('test over');
});

/** What a history records besides workflow tasks: patch markers, change-version upserts, activities and local activities, in order. */
function shapeOf(history: temporal.api.history.v1.IHistory): string[] {
  const utf8 = (b?: Uint8Array | null) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
  return (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_patch') return [`patch ${utf8(marker.details?.['patch-data']?.payloads?.[0]?.data)}`];
    if (marker?.markerName === 'core_local_activity') {
      // The marker's bookkeeping (sequence, attempt, activity type) is plain JSON; its result is a payload like any other.
      const data = JSON.parse(utf8(marker.details?.data?.payloads?.[0]?.data)) as { activity_type: string };
      return [`local ${data.activity_type}`];
    }
    const upserted = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (upserted && 'TemporalChangeVersion' in upserted) return ['upsert TemporalChangeVersion'];
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (activity) return [`activity ${activity}`];
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) return ['task'];
    return [];
  });
}

/**
 * The history once the case awaits acceptance and no workflow task is in flight. Awaited in the read
 * model, not by queries: polled by queries, the first task was once seen completed in two (an empty
 * one, then the markers), as if a query answered while it waited for its local activity had split it.
 */
async function settledHistory(handle: ComplaintHandle): Promise<temporal.api.history.v1.IHistory> {
  await waitUntil('pending_acceptance', async () => (await getCase(db.pool, caseIdOf(handle)))?.view.status === 'pending_acceptance');
  return waitUntil('no workflow task in flight', async () => {
    const h = await handle.fetchHistory();
    return countOf(h, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) === countOf(h, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) && h;
  });
}

test('when a complaint is started as the API starts it (writePath), then its history has no patch marker and no TemporalChangeVersion upsert, and its duplicate check is a local activity in its first workflow task', async () => {
  // A site: the duplicate check has something to look up (without a place it answers at once).
  const site = (n: number) => ({ siteId: `lean-start-site-${process.pid}-${n}` });
  const lean = await start({ location: site(1) });
  const leanHistory = await settledHistory(lean);
  expect(shapeOf(leanHistory)).toEqual(['task', 'local findRelatedCase', 'local projectCase']);

  // A case started without the field (before it) asks the patches and schedules the check, as before: its history is that shape.
  const before = await start({ location: site(2) }, { beforeLeanStart: true });
  const beforeHistory = await settledHistory(before);
  expect(shapeOf(beforeHistory).slice(0, 7)).toEqual([
    'task',
    `patch {"id":"wake-on-changes-during-projection","deprecated":false}`,
    'upsert TemporalChangeVersion',
    `patch {"id":"project-in-workflow-task","deprecated":false}`,
    'upsert TemporalChangeVersion',
    'activity findRelatedCase',
    'task',
  ]);
  // Ten events fewer: two markers and two upserts, three activity events and a workflow task's three, for one marker.
  // Nine events fewer: two patch markers, two upserts, three activity events and a second task's three, for one marker.
  expect((beforeHistory.events?.length ?? 0) - (leanHistory.events?.length ?? 0)).toBe(9);
  await lean.terminate('test over');
  await before.terminate('test over');
});

test('when a value the read model cannot store reaches the projection, then the case records it, is flagged, dead-lettered, operations are told, and it goes on taking decisions', async () => {
  const handle = await start({ title: 'Black smoke\u0000 from a chimney' });
  const caseId = caseIdOf(handle);
  const failed = await waitUntil('projection_failed', async () => {
    const v = await handle.query(statusQuery);
    return types(v).includes('projection_failed') && v;
  });
  expect(failed.timeline.find((e) => e.type === 'projection_failed')?.reason).toMatch(/^22/); // a data exception (SQLSTATE class 22)
  await waitUntil('EcoAttention', async () => (await attributesOf(handle)).EcoAttention === true);

  const letters = await listProjectionDeadLetters(db.pool, caseId);
  expect(letters).toHaveLength(1);
  expect(letters[0]).toMatchObject({ fromSeq: 1, sqlState: expect.stringMatching(/^22/), replayedAt: null });
  expect((JSON.parse(letters[0].events) as { type: string }[]).map((e) => e.type)).toEqual(
    expect.arrayContaining(['registered', 'registered_for_acceptance', 'projection_failed']),
  );
  const { rows: notices } = await db.pool.query<{ recipient: string; event_type: string }>(
    'SELECT recipient, event_type FROM outbox WHERE case_id = $1 AND recipient = $2',
    [caseId, 'ops'],
  );
  expect(notices).toEqual([{ recipient: 'ops', event_type: 'projection_failed' }]);
  expect(await getCase(db.pool, caseId)).toBeUndefined();

  // A later decision is answered, and its events are kept with the others.
  const accepted = await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
  expect(accepted.status).toBe('handling');
  const later = await listProjectionDeadLetters(db.pool, caseId);
  expect(later.map((l) => [l.fromSeq, l.toSeq])).toEqual([
    [letters[0].fromSeq, letters[0].toSeq],
    [letters[0].toSeq + 1, accepted.timeline.length],
  ]);
  // One notice per failed case, not one per refused projection.
  expect((await db.pool.query('SELECT 1 FROM outbox WHERE case_id = $1 AND recipient = $2', [caseId, 'ops'])).rowCount).toBe(1);
  // The dead letters show on the worker's gauge.
  expect(await workerMetrics(db.pool, createLogger('silent', 'write-path-test')).scrape()).toMatch(
    /^ecoloop_projection_dead_letters [1-9]/m,
  );
  await handle.terminate('test over');
});

test('when the cause of a refused projection is fixed, then projection:replay brings the read model up to date and the case is no longer flagged', async () => {
  // A constraint the case's title violates (SQLSTATE 23514, an integrity violation); NOT VALID: other rows are not checked.
  const title = `Forbidden title ${process.pid}`;
  await db.pool.query(`ALTER TABLE cases ADD CONSTRAINT write_path_test CHECK (title <> '${title}') NOT VALID`);
  const handle = await start({ title });
  const caseId = caseIdOf(handle);
  try {
    await waitUntil('projection_failed', async () => types(await handle.query(statusQuery)).includes('projection_failed'));
    await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });

    // Not fixed yet: the replay says so and changes nothing.
    const refused = await replayProjection(client, caseId);
    expect(refused).toMatchObject({ projected: false, error: expect.stringMatching(/^23514/) });
    expect(await getCase(db.pool, caseId)).toBeUndefined();

    // The operators fix the cause (here: the constraint goes), then replay.
    await db.pool.query('ALTER TABLE cases DROP CONSTRAINT write_path_test');
    const repaired = await replayProjection(client, caseId);
    expect(repaired).toMatchObject({ projected: true });
    expect((await getCase(db.pool, caseId))?.view.status).toBe('handling');
    const timeline = (await getTimeline(db.pool, caseId)).map((e) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['registered', 'projection_failed', 'accepted', 'projection_repaired']));
    expect((await listProjectionDeadLetters(db.pool, caseId)).every((l) => l.replayedAt !== null)).toBe(true);
    await waitUntil('EcoAttention removed', async () => (await attributesOf(handle)).EcoAttention === null);
    // And the case goes on as any other.
    const view = await handle.executeUpdate(submitResultUpdate, { args: [{ actor: unit(), summary: 'fixed', reply: 'done' }] });
    expect((await getCase(db.pool, caseId))?.view.status).toBe(view.status);
  } finally {
    await db.pool.query('ALTER TABLE cases DROP CONSTRAINT IF EXISTS write_path_test');
    await handle.terminate('test over');
  }
});

test('when each terminal decision races the first projection, 50 times over, then every completed workflow carries EcoStatus archived and no deadline', async () => {
  const ROUNDS = 50;
  const tiny = { amount: 0.005, unit: 'minutes' } as const; // 300 ms
  const site = (n: number) => `write-path-site-${process.pid}-${n}`;
  // The intake check is done (the workflow says so) while its first projection may still be running.
  const pendingAcceptance = (h: ComplaintHandle) =>
    waitUntil('pending_acceptance', async () => (await h.query(statusQuery)).status === 'pending_acceptance', 60_000);
  const paths = {
    /** Forwarded while its registration is being projected. */
    forward: async () => {
      const h = await start();
      await pendingAcceptance(h);
      await h.executeUpdate(forwardUpdate, { args: [{ actor: clerk, competentBody: 'Market regulator', reason: 'not ours' }] });
      return h;
    },
    /** A duplicate of an open case at the same site. */
    duplicate: async (n: number) => {
      const first = await start({ location: { siteId: site(n) } });
      await waitUntil('the first case in the read model', async () => (await getCase(db.pool, caseIdOf(first)))?.view.status);
      const h = await start({ location: { siteId: site(n) } });
      await h.result();
      await first.terminate('test over');
      return h;
    },
    /** Never supplemented: its supplement period runs out while it is projected. */
    insufficient: () => start({ missing: ['contact'] }, { policy: (p) => (p.limits.supplement = tiny) }),
    /** Closed (anonymous: no callback), then archived when its short monitoring window ends. */
    archive: async () => {
      const h = await start(
        { reporter: { anonymous: true, consentToShareWithUnit: false } },
        { policy: (p) => ((p.limits.monitoringWindow = tiny), (p.limits.reviewRequestWindow = tiny)) },
      );
      await pendingAcceptance(h);
      await h.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
      await h.executeUpdate(submitResultUpdate, { args: [{ actor: unit(), summary: 'done', reply: 'done' }] });
      await h.executeUpdate(reviewUpdate, { args: [{ actor: clerk, decision: 'approved' }] });
      return h;
    },
  };
  const handles: Array<{ path: string; handle: ComplaintHandle }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = await Promise.all(Object.entries(paths).map(async ([path, run]) => ({ path, handle: await run(round) })));
    handles.push(...started);
  }
  const results = [];
  for (const { path, handle } of handles) {
    await handle.result();
    const { status, EcoStatus, EcoNextDeadline } = await attributesOf(handle);
    results.push({ path, status, EcoStatus, EcoNextDeadline });
  }
  expect(results.filter((r) => r.status !== 'COMPLETED' || r.EcoStatus !== 'archived' || r.EcoNextDeadline !== null)).toEqual([]);
  expect(results).toHaveLength(ROUNDS * 4);
}, 900_000);

test('when a case is registered with a receivedAt years past, then its overdue steps fire at once and no event is dated before its registration', async () => {
  const longAgo = Date.now() - 3 * 365 * 86_400_000;
  const handle = await start({}, { receivedAt: longAgo });
  const view: CaseView = await waitUntil('the provincial escalation', async () => {
    const v = await handle.query(statusQuery);
    return types(v).includes('escalated_provincial') && v;
  });
  const registeredAt = Date.parse(view.timeline.find((e) => e.type === 'registered')!.at);
  expect(view.receivedAt).toBe(new Date(longAgo).toISOString());
  expect(types(view)).toEqual(expect.arrayContaining(['deadline_warning', 'supervision_notice', 'escalated_city', 'escalated_provincial']));
  expect(view.timeline.filter((e) => Date.parse(e.at) < registeredAt)).toEqual([]);
  await handle.terminate('test over');
});
