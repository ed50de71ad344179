import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { WarningRule } from '../domain/analysis-policy';
import { defaultPolicy } from '../domain/policy';
import type { WatchedComplaint } from '../domain/warning-window';
import { complaintReceivedSignal, watcherIdFor, watcherStateQuery, type WarningWatcherInput } from '../workflows/contracts/warning-watcher';
import { warningWatcherWorkflow } from '../workflows/warning-watcher';
import { ApiHarness } from './support/api-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createTestWorker, createTimeSkippingEnv, uniqueTaskQueue } from './support/temporal';

const DAY = 86_400_000;
const rule: WarningRule = { threshold: 3, window: { amount: 7, unit: 'days' } };

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;
let caseNo = 0;
const nextCase = () => `EC-2026-${String(900_000 + (process.pid % 1000) * 100 + ++caseNo).padStart(7, '0')}`;

beforeAll(async () => {
  [env, db] = await Promise.all([createTimeSkippingEnv(), createTestDatabase()]);
  taskQueue = uniqueTaskQueue('warning');
  worker = await createTestWorker({ connection: env.nativeConnection, taskQueue, pool: db.pool, activityDeps: { client: env.client } });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await db?.drop();
});

function watcher(key: string, extra: Partial<WarningWatcherInput> = {}): { workflowId: string; input: WarningWatcherInput } {
  const area = { kind: 'cell' as const, key, label: `cell ${key}`, lat: 36.665, lon: 117.025 };
  return {
    workflowId: watcherIdFor('many_people', 'noise', area),
    input: { kind: 'many_people', category: 'noise', area, rule, ...extra },
  };
}

async function send(w: { workflowId: string; input: WarningWatcherInput }, c: WatchedComplaint) {
  await env.client.workflow.signalWithStart(warningWatcherWorkflow, {
    taskQueue,
    workflowId: w.workflowId,
    args: [w.input],
    signal: complaintReceivedSignal,
    signalArgs: [c],
  });
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const warningsOf = async (watcherId: string) =>
  (await db.pool.query(`SELECT warning_id, case_ids, peak FROM warnings WHERE watcher_id = $1 ORDER BY raised_at`, [watcherId])).rows;
const notificationsOf = async (warningId: string) =>
  (await db.pool.query(`SELECT recipient FROM outbox WHERE idempotency_key LIKE $1 ORDER BY recipient`, [`${warningId}:%`])).rows.map(
    (r) => r.recipient,
  );

describe('the early-warning watcher', () => {
  test('when complaints in one place cross the threshold, then one warning is raised and notified once, however many complaints follow', async () => {
    const w = watcher('0.01:3666:11702');
    const now = await env.currentTimeMs();
    const [a, b, c, d, e] = [nextCase(), nextCase(), nextCase(), nextCase(), nextCase()];
    const state = () => env.client.workflow.getHandle(w.workflowId).query(watcherStateQuery);

    await send(w, { caseId: a, at: now, divisionCode: '370102', complainantKey: 'p1' });
    // The same person again, and the same case signalled twice: still one complainant.
    await send(w, { caseId: b, at: now + 1000, divisionCode: '370102', complainantKey: 'p1' });
    await send(w, { caseId: a, at: now, divisionCode: '370102', complainantKey: 'p1' });
    await send(w, { caseId: c, at: now + 2000, divisionCode: '370102', complainantKey: 'p2' });
    expect(await until('three complaints in the window', state, (s) => s.entries === 3)).toMatchObject({
      entries: 3,
      measure: 2,
      warningsRaised: 0,
    });
    expect(await warningsOf(w.workflowId)).toEqual([]);

    // The third distinct complainant crosses the threshold.
    await send(w, { caseId: d, at: now + 3000, divisionCode: '370103' });
    await until(
      'the warning',
      () => warningsOf(w.workflowId),
      (rows) => rows.length === 1,
    );
    await send(w, { caseId: e, at: now + 4000, divisionCode: '370102' });
    await until(
      'the fifth complaint joining the warning',
      () => warningsOf(w.workflowId),
      (rows) => rows[0]?.case_ids.length === 5,
    );

    const warnings = await warningsOf(w.workflowId);
    expect(warnings).toEqual([{ warning_id: `W-M-${d}`, case_ids: [a, b, c, d, e].sort(), peak: 4 }]);
    expect(await state()).toMatchObject({ entries: 5, measure: 4, warningsRaised: 1, active: { warningId: `W-M-${d}` } });
    // Told once each: the units, enforcement and supervisors of both divisions concerned.
    expect(await notificationsOf(`W-M-${d}`)).toEqual([
      'enforcement:370102',
      'enforcement:370103',
      'supervisor:370102',
      'supervisor:370103',
      'units:370102',
      'units:370103',
    ]);
  });

  test('when the window clears, then the watcher re-arms, and a new crossing raises a second warning', async () => {
    const w = watcher('0.01:3700:11800');
    const first = await env.currentTimeMs();
    const early = [nextCase(), nextCase(), nextCase()];
    for (const [i, caseId] of early.entries()) await send(w, { caseId, at: first + i, divisionCode: '370102' });
    await until(
      'the first warning',
      () => warningsOf(w.workflowId),
      (rows) => rows.length === 1,
    );

    // A week and a day later, the window is empty: the watcher re-armed (and its run ended).
    await env.sleep(8 * DAY);
    const handle = env.client.workflow.getHandle(w.workflowId);
    await until(
      'the idle watcher to end',
      async () => (await handle.describe()).status.name,
      (s) => s === 'COMPLETED',
    );

    const later = await env.currentTimeMs();
    const late = [nextCase(), nextCase(), nextCase()];
    for (const [i, caseId] of late.entries()) await send(w, { caseId, at: later + i, divisionCode: '370102' });
    // A complaint of the first episode, signalled again, is outside the window and counts for nothing.
    await send(w, { caseId: early[0], at: first, divisionCode: '370102' });
    const rows = await until(
      'the second warning',
      () => warningsOf(w.workflowId),
      (r) => r.length === 2,
    );
    expect(rows.map((r) => r.warning_id)).toEqual([`W-M-${early[2]}`, `W-M-${late[2]}`]);
    expect(rows[1].case_ids).toEqual([...late].sort());
  });

  test('when a watcher continues as new, then its window and its warning carry over', async () => {
    const w = watcher('0.01:3710:11810', { continueAsNewAfterEvents: 10 });
    const handle = env.client.workflow.getHandle(w.workflowId);
    const now = await env.currentTimeMs();
    const ids = Array.from({ length: 6 }, nextCase);
    await send(w, { caseId: ids[0], at: now, divisionCode: '370102' });
    const firstRun = (await handle.describe()).runId;
    for (const [i, caseId] of ids.slice(1, 3).entries()) await send(w, { caseId, at: now + i + 1, divisionCode: '370102' });
    // Raising the warning takes the history past 10 events: the watcher continues as new with its window.
    await until(
      'the warning',
      () => warningsOf(w.workflowId),
      (rows) => rows.length === 1,
    );
    await until(
      'a new run',
      async () => (await handle.describe()).runId,
      (runId) => runId !== firstRun,
    );
    for (const [i, caseId] of ids.slice(3).entries()) await send(w, { caseId, at: now + i + 3, divisionCode: '370102' });
    await until(
      'the warning to gather all six',
      () => warningsOf(w.workflowId),
      (rows) => rows[0]?.case_ids.length === 6,
    );
    // Still one warning, raised by the third complaint: the new run knew the window and its warning.
    expect((await warningsOf(w.workflowId)).map((r) => r.warning_id)).toEqual([`W-M-${ids[2]}`]);
    expect((await handle.describe()).runId).not.toBe(firstRun);
  });
});

describe('early warning from the intake', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await ApiHarness.create('warning-api');
    api.policy = {
      ...defaultPolicy,
      analysis: { ...defaultPolicy.analysis, warning: { ...defaultPolicy.analysis.warning, manyPeople: rule } },
    };
  });
  afterAll(async () => {
    await api?.teardown();
  });

  test('when clerks register complaints from three people in one cell, then one warning is listed, and a campaign can be started from it once', async () => {
    const clerk = await api.token({ sub: 'clerk-1', role: 'clerk' });
    const supervisor = await api.token({ sub: 'sup-1', role: 'supervisor', divisions: ['3701'] });
    const caseIds: string[] = [];
    for (const [i, phone] of ['13900000001', '13900000002', '13900000003', '13900000004'].entries()) {
      const res = await api.request('POST', '/v1/complaints', {
        token: clerk,
        body: {
          channel: 'hotline',
          category: 'noise',
          divisionCode: '370102',
          title: `Pile driving at night ${i}`,
          description: 'Pile driving after 23:00 next to the compound.',
          // Within 1 km of each other, in one 0.01° cell. Watcher ids are global on the test run's one
          // dev server: no other test file may complain about noise in this cell.
          location: { lat: 36.7012 + i * 0.001, lon: 117.1234 + i * 0.001 },
          reporter: { anonymous: false, name: `Resident ${i}`, phone, consentToShareWithUnit: false },
        },
      });
      expect(res.status).toBe(201);
      caseIds.push(res.body.caseId);
      // Complaints arrive one after another: each is in the read model (and so fed to its watcher) before the next.
      await api.eventually(`/v1/complaints/${res.body.caseId}`, clerk, () => true);
    }
    const list = await api.eventually('/v1/warnings', supervisor, (b) => b.total === 1 && b.items[0].caseIds.length === 4, 'the warning');
    expect(list.items[0]).toMatchObject({
      warningId: `W-M-${caseIds[2]}`,
      kind: 'many_people',
      category: 'noise',
      divisionCodes: ['370102'],
      threshold: 3,
      peak: 4,
    });
    expect(list.items[0].caseIds).toEqual([...caseIds].sort());
    // A supervisor of another city does not see it.
    const other = await api.token({ sub: 'sup-2', role: 'supervisor', divisions: ['3702'] });
    expect((await api.request('GET', '/v1/warnings', { token: other })).body.total).toBe(0);

    const warningId = list.items[0].warningId;
    const to = new Date(Date.now() + 30 * DAY).toISOString();
    const started = await api.request('POST', `/v1/warnings/${warningId}/campaign`, { token: supervisor, body: { to } });
    expect(started.status).toBe(201);
    expect(started.body.campaignId).toMatch(/^CP-[0-9a-f]{12}$/);
    const again = await api.request('POST', `/v1/warnings/${warningId}/campaign`, { token: supervisor, body: { to } });
    expect(again.status).toBe(200);
    expect(again.body.campaignId).toBe(started.body.campaignId);
    const described = await api.client.workflow.getHandle(started.body.workflowId).describe();
    expect(described.type).toBe('campaignWorkflow');
    expect((await api.request('GET', `/v1/warnings/${warningId}`, { token: supervisor })).body.campaignId).toBe(started.body.campaignId);
  });
});
