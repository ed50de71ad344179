import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import express from 'express';
import { supervisionRoutes } from '../api/routes/supervision';
import { problemHandler } from '../api/problem';
import { defaultPolicy, type Policy } from '../domain/policy';
import { parsePolicy } from '../domain/schemas/policy';
import { localDate } from '../domain/supervision-periods';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { TemporalGateway } from '../api/temporal-gateway';
import { backfillWindow, scheduleIds } from '../domain/spot-check';
import { ensureSupervisionSchedules } from '../worker/schedules';
import { ApiHarness } from './support/api-harness';

/**
 * The supervision Schedules on the real Temporal dev server of the test run (the time-skipping
 * server runs no Schedules), under Schedule ids of this file's own, deleted afterwards. Then a
 * backfill through the API runs a past day's desk check on this file's worker.
 */

let h: ApiHarness;
const prefix = `test-${randomBytes(4).toString('hex')}`;
const ids = scheduleIds(prefix);
const CST = defaultPolicy.calendar.utcOffsetMinutes;

beforeAll(async () => {
  h = await ApiHarness.create('schedules');
});
afterAll(async () => {
  for (const id of Object.values(ids))
    await h?.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await h?.teardown();
});

const ensure = (policy: Policy) => ensureSupervisionSchedules(h.client, { policy, taskQueue: h.taskQueue, prefix });

async function ours(): Promise<string[]> {
  const found: string[] = [];
  for await (const s of h.client.schedule.list()) if (s.scheduleId.startsWith(`${prefix}-`)) found.push(s.scheduleId);
  return found.sort();
}

/** Local (UTC+08:00) wall-clock parts of an instant. */
function local(d: Date) {
  const t = new Date(d.getTime() + CST * 60_000);
  return { month: t.getUTCMonth() + 1, day: t.getUTCDate(), hour: t.getUTCHours(), minute: t.getUTCMinutes() };
}

describe('creating the Schedules at start-up', () => {
  test("when called twice, then there is one Schedule of each kind, with the policy's cron, time zone and rules", async () => {
    expect(await ensure(defaultPolicy)).toEqual([
      { scheduleId: ids.desk_check, outcome: 'created' },
      { scheduleId: ids.re_inspection, outcome: 'created' },
    ]);
    expect(await ensure(defaultPolicy)).toEqual([
      { scheduleId: ids.desk_check, outcome: 'unchanged' },
      { scheduleId: ids.re_inspection, outcome: 'unchanged' },
    ]);
    // Listing is eventually consistent: wait until both show.
    const deadline = Date.now() + 20_000;
    while ((await ours()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await ours()).toEqual([ids.desk_check, ids.re_inspection].sort());

    const desk = await h.client.schedule.getHandle(ids.desk_check).describe();
    expect(desk.spec.timezone).toBe('Asia/Shanghai');
    expect(desk.policies.catchupWindow).toBe(86_400_000);
    for (const next of desk.info.nextActionTimes) expect(local(next)).toMatchObject({ hour: 1, minute: 0 });
    expect(desk.action).toMatchObject({ type: 'startWorkflow', workflowType: 'deskCheckWorkflow', taskQueue: h.taskQueue });
    expect((desk.action.args as any[])[0]).toMatchObject({
      policy: { share: 0.2, minPerDivision: 1 },
      policyVersion: defaultPolicy.version,
    });

    const quarterly = await h.client.schedule.getHandle(ids.re_inspection).describe();
    expect(quarterly.spec.timezone).toBe('Asia/Shanghai');
    expect(quarterly.info.nextActionTimes.length).toBeGreaterThan(0);
    for (const next of quarterly.info.nextActionTimes) {
      expect(local(next)).toMatchObject({ day: 1, hour: 2, minute: 0 });
      expect([1, 4, 7, 10]).toContain(local(next).month);
    }
    expect((quarterly.action.args as any[])[0]).toMatchObject({ policy: { share: 0.1, minPerDivision: 1, remindAt: [0.5, 0.8] } });
  });

  test('when the policy changes, then the changed Schedule is updated in place, and a pause survives the update', async () => {
    await h.client.schedule.getHandle(ids.desk_check).pause('paused by an operator');
    const changed = parsePolicy({ version: 'test-2', supervision: { deskCheck: { share: 0.3, schedule: { cron: '30 3 * * *' } } } });
    expect(await ensure(changed)).toEqual([
      { scheduleId: ids.desk_check, outcome: 'updated' },
      { scheduleId: ids.re_inspection, outcome: 'updated' }, // its runs carry the policy version
    ]);
    expect(await ensure(changed)).toEqual([
      { scheduleId: ids.desk_check, outcome: 'unchanged' },
      { scheduleId: ids.re_inspection, outcome: 'unchanged' },
    ]);
    const desk = await h.client.schedule.getHandle(ids.desk_check).describe();
    expect(desk.state.paused).toBe(true);
    for (const next of desk.info.nextActionTimes) expect(local(next)).toMatchObject({ hour: 3, minute: 30 });
    expect((desk.action.args as any[])[0]).toMatchObject({ policy: { share: 0.3 }, policyVersion: 'test-2' });
    await h.client.schedule.getHandle(ids.desk_check).unpause();
    expect(await ensure(defaultPolicy)).toEqual([
      { scheduleId: ids.desk_check, outcome: 'updated' },
      { scheduleId: ids.re_inspection, outcome: 'updated' },
    ]);
  });

  test('when a backfill is asked for days or quarters, then its window holds exactly the runs that check them', () => {
    const days = backfillWindow('desk_check', '2026-01-07', '2026-01-09', CST);
    expect(days.start.toISOString()).toBe('2026-01-07T16:00:00.000Z'); // 2026-01-08 00:00 China time
    expect(days.end.toISOString()).toBe('2026-01-10T16:00:00.000Z'); // runs of the 8th, 9th and 10th
    const quarters = backfillWindow('re_inspection', '2025-Q4', '2026-Q1', CST);
    expect(quarters.start.toISOString()).toBe('2025-12-31T16:00:00.000Z'); // the run of 1 January checks 2025-Q4
    expect(quarters.end.toISOString()).toBe('2026-06-30T16:00:00.000Z'); // and the run of 1 April 2026-Q1
  });
});

describe('backfill and review through the API', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    await ensure(defaultPolicy);
    // The supervision routes under this file's Schedule ids.
    const app = express();
    app.use(express.json());
    const temporal = new TemporalGateway(h.client, 10_000, h.taskQueue);
    const deps = { temporal, pool: h.db.pool, policy: () => defaultPolicy, jwtSecret: DEVELOPMENT_JWT_SECRET, schedulePrefix: prefix };
    app.use(supervisionRoutes(deps));
    app.use(problemHandler(() => undefined));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any };
  }

  async function eventually(path: string, token: string, predicate: (body: any) => boolean): Promise<any> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await call('GET', path, token);
      if (res.status === 200 && predicate(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`timed out on ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test("when a supervisor backfills a missed day, then the Schedule runs that day's desk check, its draw verifies, and a review closes it", async () => {
    const supervisor = await h.token({ sub: 'sup-1', role: 'supervisor', divisions: ['37'] });
    const assigned = await h.token({ sub: 'insp-1', role: 'inspector' });
    const other = await h.token({ sub: 'insp-2', role: 'inspector' });
    await call('POST', '/v1/supervision/inspectors/insp-1', supervisor, { divisionCode: '37' });
    await call('POST', '/v1/supervision/inspectors/insp-2', supervisor, { divisionCode: '44' });
    const day = '2026-01-07';
    for (let i = 0; i < 5; i++) {
      await h.db.pool.query(
        `INSERT INTO cases (case_id, status, closure, category, urgency, channel, division_code, title, owner_id, policy_version,
           received_at, closed_at, view, last_seq)
         VALUES ($1, 'closed', 'resolved', 'air', 'normal', 'hotline', '370102', 'Smoke', 'clerk-1', 'x', $2, $2, '{}', 1)`,
        [`EC-2026-99070${i}${i}`, `2026-01-07T0${i + 1}:00:00Z`],
      );
    }

    const refused = await call('POST', '/v1/supervision/backfills', assigned, { kind: 'desk_check', from: day, to: day });
    expect(refused.status).toBe(403);
    const backwards = await call('POST', '/v1/supervision/backfills', supervisor, { kind: 'desk_check', from: '2026-01-08', to: day });
    expect(backwards).toMatchObject({ status: 400, type: expect.stringContaining('application/problem+json') });
    // Periods before 1970 are refused at the edge (a year below 1000 once answered 500).
    for (const [kind, from, to] of [
      ['re_inspection', '0999-Q1', '0999-Q2'],
      ['desk_check', '0999-12-30', '0999-12-31'],
    ]) {
      const ancient = await call('POST', '/v1/supervision/backfills', supervisor, { kind, from, to });
      expect({ kind, ancient }).toMatchObject({
        kind,
        ancient: { status: 400, type: expect.stringContaining('application/problem+json') },
      });
    }
    const today = localDate(Date.now(), CST);
    expect((await call('POST', '/v1/supervision/backfills', supervisor, { kind: 'desk_check', from: today, to: today })).status).toBe(422);

    const accepted = await call('POST', '/v1/supervision/backfills', supervisor, { kind: 'desk_check', from: day, to: day });
    expect(accepted).toMatchObject({ status: 202, body: { scheduleId: ids.desk_check, window: { start: '2026-01-07T16:00:00.000Z' } } });

    // The run starts now but stands for 2026-01-08 01:00: it checks 2026-01-07, not yesterday.
    const check = await eventually(`/v1/supervision/desk-checks/${day}`, supervisor, (b) => b.items?.length === 1);
    expect(check).toMatchObject({ seed: `desk-check:${day}`, population: 5, share: 0.2, completedAt: null });
    expect(check.workflowId.startsWith(ids.desk_check)).toBe(true);
    const verify = await call('GET', `/v1/supervision/desk-checks/${day}/verify`, assigned);
    expect(verify.body).toMatchObject({ matches: true, orderIndependent: true, population: 5, stored: check.drawn });

    const [item] = check.items;
    expect(item.reviewerId).toBe('insp-1'); // insp-2 covers another province
    const path = `/v1/supervision/desk-checks/${day}/items/${item.caseId}/review`;
    expect((await call('POST', path, other, { compliant: true })).status).toBe(403);
    expect((await call('POST', path, assigned, { compliant: false })).status).toBe(400); // a finding is required
    const reviewed = await call('POST', path, assigned, { compliant: true });
    expect(reviewed).toMatchObject({ status: 200, body: { caseId: item.caseId, result: 'compliant' } });
    // Every instant in every answer is ISO 8601 (the workflow's epoch milliseconds are not).
    expect(reviewed.body.reviewedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect((await call('POST', path, assigned, { compliant: true })).status).toBe(409);

    const closed = await eventually(`/v1/supervision/desk-checks/${day}`, supervisor, (b) => b.completedAt !== null);
    expect(closed.items[0]).toMatchObject({ result: 'compliant', reviewedBy: 'insp-1' });
    const list = await call('GET', '/v1/supervision/desk-checks', supervisor);
    expect(list.body.items[0]).toMatchObject({ id: day, results: { compliant: 1, nonCompliant: 0, missed: 0 } });
  });

  test('when anyone asks for the published results, then no token is needed; every other route needs one', async () => {
    const pub = await call('GET', '/v1/supervision/public/results');
    expect(pub).toMatchObject({ status: 200, body: { items: [] } });
    expect((await call('GET', '/v1/supervision/re-inspections')).status).toBe(401);
    const analyst = await h.token({ sub: 'an-1', role: 'analyst' });
    expect((await call('GET', '/v1/supervision/re-inspections/2026-Q1/verify', analyst)).status).toBe(404);
    expect((await call('GET', '/v1/supervision/re-inspections/2026-Q5/verify', analyst)).status).toBe(400);
  });
});
