import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { createActivities } from '../activities';
import type { Actor, Reopen } from '../domain/case';
import { defaultPolicy, type Policy } from '../domain/policy';
import { parsePolicy } from '../domain/schemas/policy';
import { deskCheckSeed, drawStratified, verifyDraw } from '../domain/sampling';
import { localDate, localDayPeriod } from '../domain/supervision-periods';
import { getStoredDraw } from '../db/spot-checks';
import { acceptUpdate, reviewUpdate, statusQuery, submitResultUpdate } from '../workflows/contracts/complaint';
import { deskCheckQuery, deskReviewUpdate, type DeskCheckView } from '../workflows/contracts/desk-check';
import { deskCheckWorkflow } from '../workflows/spot-check';
import { ComplaintHarness, DAY, HOUR, clerk, eventsOf, unit, type ComplaintHandle } from './support/complaint-harness';
import { testDataConverter } from './support/temporal';

/**
 * The daily desk check on the time-skipping test server with a real database. The test server does
 * not run Schedules: the workflow is started here as the Schedule would start it, with the day as
 * its argument (worker/schedules.ts and test/schedules.test.ts cover the Schedule itself).
 */

let h: ComplaintHarness;
/** A client without the time-skipping interceptor: awaiting a result here never skips time. */
let client: Client;
beforeAll(async () => {
  h = await ComplaintHarness.create('desk-check');
  client = new Client({ connection: h.env.connection, dataConverter: testDataConverter });
  await h.db.pool.query(`INSERT INTO inspectors (id, division_code, active) VALUES ('insp-1', '37', true), ('insp-2', '37', true)`);
});
afterAll(async () => {
  await h?.teardown();
});

const CST = defaultPolicy.calendar.utcOffsetMinutes;
const reviewer: Actor = { id: 'insp-1', role: 'inspector' };
const otherInspector: Actor = { id: 'insp-2', role: 'inspector' };

async function closeCase(divisionCode: string): Promise<ComplaintHandle> {
  const handle = await h.start({ divisionCode, reporter: { anonymous: true, consentToShareWithUnit: false } });
  await h.waitForEvent(handle, 'registered_for_acceptance');
  const unitId = `unit-${divisionCode}`;
  await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId }] });
  await handle.executeUpdate(submitResultUpdate, {
    args: [{ actor: unit(unitId), summary: 'Filter fitted', reply: 'We fitted a filter.' }],
  });
  const view = await handle.executeUpdate(reviewUpdate, { args: [{ actor: clerk, decision: 'approved' }] });
  expect(view).toMatchObject({ status: 'closed', closure: 'no_callback' }); // anonymous: no callback
  return handle;
}

function startDeskCheck(date: string, policy: Policy = defaultPolicy): Promise<WorkflowHandle<typeof deskCheckWorkflow>> {
  return client.workflow.start(deskCheckWorkflow, {
    taskQueue: h.taskQueue,
    workflowId: `desk-check-${date}-${Math.random().toString(36).slice(2, 8)}`,
    args: [{ date, policy: policy.supervision.deskCheck, calendar: policy.calendar, policyVersion: policy.version }],
  });
}

async function drawn(handle: WorkflowHandle<typeof deskCheckWorkflow>): Promise<DeskCheckView> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const view = await handle.query(deskCheckQuery).catch(() => undefined);
    if (view?.population !== undefined) return view;
    if (Date.now() > deadline) throw new Error('the desk check was not drawn');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const perDivision = (items: { divisionCode: string }[]) =>
  items.reduce<Record<string, number>>((acc, i) => ({ ...acc, [i.divisionCode]: (acc[i.divisionCode] ?? 0) + 1 }), {});

/** Closed cases projected straight into the read model (no workflows): a sampling frame for a past day. */
async function insertClosedCases(date: string, counts: Record<string, number>): Promise<void> {
  const { from } = localDayPeriod(date, CST);
  let n = 0;
  for (const [division, count] of Object.entries(counts)) {
    for (let i = 0; i < count; i++, n++) {
      const at = new Date(from + HOUR + n * 60_000).toISOString();
      await h.db.pool.query(
        `INSERT INTO cases (case_id, status, closure, category, urgency, channel, division_code, title, owner_id, policy_version,
           received_at, closed_at, view, last_seq)
         VALUES ($1, 'closed', 'resolved', 'air', 'normal', 'hotline', $2, 'Smoke', 'clerk-1', 'x', $3, $3, '{}', 1)`,
        [`EC-${date.slice(0, 4)}-9${date.slice(5, 7)}${date.slice(8, 10)}${String(n).padStart(2, '0')}`, division, at],
      );
    }
  }
}

describe('the sample follows the policy', () => {
  test('when the policy share is raised from 20% to 50%, then the same day-shaped frame gives a bigger sample, stratified by division', async () => {
    await insertClosedCases('2026-01-05', { '370102': 10, '370203': 4 });
    await insertClosedCases('2026-01-06', { '370102': 10, '370203': 4 });
    const base = await drawn(await startDeskCheck('2026-01-05'));
    const raised = await drawn(await startDeskCheck('2026-01-06', parsePolicy({ supervision: { deskCheck: { share: 0.5 } } })));
    expect(base.population).toBe(14);
    expect(perDivision(base.items)).toEqual({ '370102': 2, '370203': 1 });
    expect(perDivision(raised.items)).toEqual({ '370102': 5, '370203': 2 });
    const stored = await getStoredDraw(h.db.pool, 'desk_check', '2026-01-06');
    expect(stored).toMatchObject({ seed: deskCheckSeed('2026-01-06'), share: 0.5 });
  });
});

describe('a day of closed cases', () => {
  let date: string;
  let cases: ComplaintHandle[];
  let check: WorkflowHandle<typeof deskCheckWorkflow>;
  let view: DeskCheckView;

  beforeAll(async () => {
    // Close every case on one local day: start at the next 09:00 China time.
    const now = await h.env.currentTimeMs();
    let nine = Math.floor((now + CST * 60_000) / DAY) * DAY + 9 * HOUR - CST * 60_000;
    if (nine <= now) nine += DAY;
    await h.sleep(nine - now);
    date = localDate(nine, CST);
    cases = await Promise.all(
      ['370102', '370102', '370102', '370102', '370102', '370102', '370203', '370203', '370203', '370305'].map(closeCase),
    );
    // The Schedule fires at 01:00 the next day.
    await h.sleep(localDayPeriod(date, CST).to + HOUR - (await h.env.currentTimeMs()));
    check = await startDeskCheck(date);
    view = await drawn(check);
  });

  test('when the day is checked, then 20% of each division (rounded up) is drawn with its seed, and the draw re-runs to the same sample', async () => {
    expect(view.population).toBe(10);
    expect(perDivision(view.items)).toEqual({ '370102': 2, '370203': 1, '370305': 1 });
    expect(view.seed).toBe(`desk-check:${date}`);
    const stored = (await getStoredDraw(h.db.pool, 'desk_check', date))!;
    expect(stored.drawn).toEqual(view.items.map((i) => i.caseId));
    expect(verifyDraw(stored)).toMatchObject({ matches: true, orderIndependent: true });
    // Anyone can redo it from the seed and the stored frame (the cases closed that day).
    expect(stored.population.map((x) => x.id).sort()).toEqual(cases.map((c) => c.workflowId.replace('complaint-', '')).sort());
    expect(drawStratified(stored.population, (x) => x.divisionCode, 0.2, 1, `desk-check:${date}`)).toEqual(stored.drawn);
    expect(view.items.every((i) => i.reviewerId === 'insp-1' || i.reviewerId === 'insp-2')).toBe(true);
  });

  test('when a reviewer finds a reply non-compliant, then the case is reopened for its unit with the rectification deadline, and the result is recorded', async () => {
    const [ok, bad] = view.items;
    const reviewerOf = (r: string | null): Actor => ({ id: r!, role: 'inspector' });
    const notTheirs = ok.reviewerId === reviewer.id ? otherInspector : reviewer;
    const refused = await check
      .executeUpdate(deskReviewUpdate, { args: [{ actor: notTheirs, caseId: ok.caseId, compliant: true }] })
      .catch((e) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(refused.cause.message).toMatch(/assigned to another reviewer/);

    const compliant = await check.executeUpdate(deskReviewUpdate, {
      args: [{ actor: reviewerOf(ok.reviewerId), caseId: ok.caseId, compliant: true }],
    });
    expect(compliant).toMatchObject({ result: 'compliant', returnOutcome: null });

    const finding = 'The reply does not say whether emissions were measured';
    const returned = await check.executeUpdate(deskReviewUpdate, {
      args: [{ actor: reviewerOf(bad.reviewerId), caseId: bad.caseId, compliant: false, finding }],
    });
    expect(returned).toMatchObject({ result: 'non_compliant', returnOutcome: 'reopened' });

    const badCase = cases.find((c) => c.workflowId === `complaint-${bad.caseId}`)!;
    const caseView = await badCase.query(statusQuery);
    expect(caseView).toMatchObject({ status: 'handling', reopenCount: 1, escalationLevel: 0 });
    const reopened = eventsOf(caseView, 'reopened')[0];
    expect(reopened.data).toMatchObject({ source: 'spot_check', finding });
    expect(caseView.deadline).toMatchObject({ kind: 'rework', dueAt: new Date(Date.parse(reopened.at) + 15 * DAY).toISOString() });

    const { rows } = await h.db.pool.query(
      `SELECT case_id, result, finding, return_outcome, rectification_due_at FROM desk_check_items WHERE desk_check_id = $1 AND result IS NOT NULL ORDER BY case_id`,
      [date],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ case_id: ok.caseId, result: 'compliant', return_outcome: null }),
        expect.objectContaining({
          case_id: bad.caseId,
          result: 'non_compliant',
          finding,
          return_outcome: 'reopened',
          rectification_due_at: new Date(caseView.deadline!.dueAt),
        }),
      ]),
    );
  });

  test('when the reopen activity runs twice (a retry), then the case is reopened once', async () => {
    const notDrawn = cases.find((c) => !view.items.some((i) => `complaint-${i.caseId}` === c.workflowId))!;
    const caseId = notDrawn.workflowId.replace('complaint-', '');
    const activities = createActivities(h.db.pool, { client });
    const reopen: Reopen = {
      actor: reviewer,
      reason: 'Desk check: not compliant',
      source: 'spot_check',
      escalate: false,
      reworkDays: 15,
      finding: 'x',
    };
    const input = { caseId, updateId: `${deskCheckSeed(date)}:${caseId}`, reopen };
    const first = await activities.reopenCase(input);
    const second = await activities.reopenCase(input);
    expect(first).toMatchObject({ outcome: 'reopened', reopenCount: 1 });
    expect(second).toMatchObject({ outcome: 'reopened', reopenCount: 1 });
    const caseView = await notDrawn.query(statusQuery);
    expect(caseView.reopenCount).toBe(1);
    expect(eventsOf(caseView, 'reopened')).toHaveLength(1);
    // A different check is a different update: the case, now handling, cannot be reopened again.
    expect(await activities.reopenCase({ ...input, updateId: 'another-check' })).toMatchObject({ outcome: 'not_reopenable' });
  });

  test('when the review deadline passes, then the unreviewed cases are recorded as missed and the check closes', async () => {
    const dueAt = Date.parse(view.reviewDueAt!);
    await h.sleep(dueAt - (await h.env.currentTimeMs()) - HOUR);
    expect((await check.query(deskCheckQuery)).completed).toBe(false);
    await h.sleep(2 * HOUR);
    const outcome = await check.result();
    expect(outcome).toMatchObject({ id: date, population: 10, drawn: 4, compliant: 1, nonCompliant: 1, returned: 1, missed: 2 });
    const { rows } = await h.db.pool.query(`SELECT completed_at FROM desk_checks WHERE id = $1`, [date]);
    expect(rows[0].completed_at.getTime()).toBeGreaterThanOrEqual(dueAt);
    const missed = await h.db.pool.query(`SELECT count(*)::int AS n FROM desk_check_items WHERE desk_check_id = $1 AND result = 'missed'`, [
      date,
    ]);
    expect(missed.rows[0].n).toBe(2);
  });
});
