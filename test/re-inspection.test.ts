import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { pointBetween } from '../domain/calendar';
import type { Actor } from '../domain/case';
import { defaultPolicy } from '../domain/policy';
import { drawStratified, reInspectionSeed, sampleSize, verifyDraw } from '../domain/sampling';
import { quarterOf, quarterPeriod } from '../domain/supervision-periods';
import { getInspections, listPublishedResults } from '../db/re-inspections';
import { getStoredDraw } from '../db/spot-checks';
import { acceptUpdate, reviewUpdate, statusQuery, submitResultUpdate } from '../workflows/contracts/complaint';
import { inspectionQuery, inspectionWorkflowIdFor, recordFindingUpdate, type InspectionView } from '../workflows/contracts/re-inspection';
import { reInspectionWorkflow } from '../workflows/spot-check';
import { ComplaintHarness, DAY, HOUR, clerk, eventsOf, unit, type ComplaintHandle } from './support/complaint-harness';
import { testDataConverter } from './support/temporal';

/**
 * A full quarter on the time-skipping test server with a real database: cases close, the quarter
 * ends, the quarterly re-inspection draws and inspects. The test server does not run Schedules, so
 * the workflow is started here as the Schedule would start it, with the quarter as its argument.
 */

let h: ComplaintHarness;
/** A client without the time-skipping interceptor: awaiting a result here never skips time. */
let client: Client;

const CST = defaultPolicy.calendar.utcOffsetMinutes;
const policy = defaultPolicy.supervision.reInspection;
const A = '370102';
const B = '370203';
const C = '370305';
/** An inspector who once registered cases as a clerk in division B: the "handler" of those cases. */
const handlerInspector: Actor = { id: 'insp-b1', role: 'clerk' };

let quarter: string;
let cases: Map<string, ComplaintHandle>;
let openCaseId: string;
let run: WorkflowHandle<typeof reInspectionWorkflow>;

async function closeCase(divisionCode: string, acceptedBy: Actor = clerk): Promise<ComplaintHandle> {
  const handle = await h.start({ divisionCode, reporter: { anonymous: true, consentToShareWithUnit: false } });
  await h.waitForEvent(handle, 'registered_for_acceptance');
  const unitId = `unit-${divisionCode}`;
  await handle.executeUpdate(acceptUpdate, { args: [{ actor: acceptedBy, unitId }] });
  await handle.executeUpdate(submitResultUpdate, {
    args: [{ actor: unit(unitId), summary: 'Site cleaned', reply: 'The site was cleaned.' }],
  });
  const view = await handle.executeUpdate(reviewUpdate, { args: [{ actor: clerk, decision: 'approved' }] });
  expect(view.status).toBe('closed');
  return handle;
}

function startReInspection(q: string, workflowId: string): Promise<WorkflowHandle<typeof reInspectionWorkflow>> {
  return client.workflow.start(reInspectionWorkflow, {
    taskQueue: h.taskQueue,
    workflowId,
    args: [{ quarter: q, policy, calendar: defaultPolicy.calendar, policyVersion: defaultPolicy.version }],
  });
}

/** Query an inspection until `predicate` holds (its workflow may not have run its first task yet). */
async function inspection(
  caseId: string,
  predicate: (v: InspectionView) => boolean = () => true,
  what = 'condition',
): Promise<InspectionView> {
  const handle = client.workflow.getHandle(inspectionWorkflowIdFor(quarter, caseId));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const view = await handle.query(inspectionQuery).catch(() => undefined);
    if (view && predicate(view)) return view;
    if (Date.now() > deadline) throw new Error(`inspection of ${caseId}: timed out waiting for ${what}; ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const caseIdOf = (handle: ComplaintHandle) => handle.workflowId.replace('complaint-', '');

beforeAll(async () => {
  h = await ComplaintHarness.create('re-inspection');
  client = new Client({ connection: h.env.connection, dataConverter: testDataConverter });
  await h.db.pool.query(
    `INSERT INTO inspectors (id, division_code, active) VALUES
       ('insp-a1', '${A}', true), ('insp-a2', '${A}', true), ('insp-gone', '${A}', false),
       ('insp-b1', '${B}', true), ('insp-b2', '${B}', true), ('insp-c1', '${C}', true)`,
  );
  // The quarter: cases close in it, then it ends.
  quarter = quarterOf(await h.env.currentTimeMs(), CST);
  const divisions = [...Array(11).fill(A), ...Array(3).fill(B), C];
  const closed = await Promise.all(divisions.map((d) => closeCase(d, d === B ? handlerInspector : clerk)));
  cases = new Map(closed.map((c) => [caseIdOf(c), c]));
  // Still open at the end of the quarter: not in the frame.
  const open = await h.start({ divisionCode: A });
  await h.waitForEvent(open, 'registered_for_acceptance');
  openCaseId = caseIdOf(open);

  // 02:00 on the first day of the next quarter, when the Schedule fires.
  const end = quarterPeriod(quarter, CST).to;
  await h.sleep(end + 2 * HOUR - (await h.env.currentTimeMs()));
  run = await startReInspection(quarter, `re-inspection-${quarter}`);
  // The quarter's workflow runs until every inspection has its finding; wait until all have started.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const inspections = await getInspections(h.db.pool, quarter).catch(() => []);
    if (inspections.length && inspections.every((i) => i.startedAt)) break;
    if (Date.now() > deadline) throw new Error(`the inspections did not start: ${JSON.stringify(inspections)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(async () => {
  await h?.teardown();
});

describe('the quarterly draw', () => {
  test('when the quarter is re-inspected, then at least 10% of every division is drawn, at least one each, from the cases closed in it', async () => {
    const stored = (await getStoredDraw(h.db.pool, 're_inspection', quarter))!;
    expect(stored.seed).toBe(reInspectionSeed(quarter));
    expect(stored.population.map((x) => x.id).sort()).toEqual([...cases.keys()].sort());
    expect(stored.population.some((x) => x.id === openCaseId)).toBe(false);
    const inspections = await getInspections(h.db.pool, quarter);
    for (const [division, closedThere] of [
      [A, 11],
      [B, 3],
      [C, 1],
    ] as const) {
      const drawnThere = inspections.filter((i) => i.divisionCode === division).length;
      expect(drawnThere).toBeGreaterThanOrEqual(Math.max(1, Math.ceil(policy.share * closedThere)));
      expect(drawnThere).toBe(sampleSize(closedThere, policy.share, policy.minPerDivision));
    }
    expect(inspections.map((i) => i.caseId)).toEqual(stored.drawn);
    expect(inspections.map((i) => i.status)).toEqual(['in_progress', 'in_progress', 'in_progress', 'in_progress']);
  });

  test('when inspectors are assigned, then each covers the division, is active, and never handled the case', async () => {
    const inspections = await getInspections(h.db.pool, quarter);
    for (const i of inspections) {
      const { rows } = await h.db.pool.query<{ actor_id: string }>(`SELECT DISTINCT actor_id FROM case_events WHERE case_id = $1`, [
        i.caseId,
      ]);
      const handlers = rows.map((r) => r.actor_id);
      expect(handlers).not.toContain(i.inspectorId);
      expect(i.inspectorId).not.toBe('insp-gone');
      expect(i.inspectorId!.startsWith('insp-')).toBe(true);
      const covered = await h.db.pool.query(`SELECT 1 FROM inspectors WHERE id = $1 AND $2 LIKE division_code || '%'`, [
        i.inspectorId,
        i.divisionCode,
      ]);
      expect(covered.rowCount).toBe(1);
    }
    // insp-b1 handled every case of division B: the B inspection goes to insp-b2.
    expect(inspections.find((i) => i.divisionCode === B)!.inspectorId).toBe('insp-b2');
  });

  test('when the draw is re-run from its seed, also over the frame in another order, then it gives the same sample', async () => {
    const stored = (await getStoredDraw(h.db.pool, 're_inspection', quarter))!;
    expect(verifyDraw(stored)).toMatchObject({ matches: true, orderIndependent: true, recomputed: stored.drawn });
    const shuffled = [...stored.population].sort((a, b) => (a.id.slice(-2) < b.id.slice(-2) ? 1 : -1));
    expect(drawStratified(shuffled, (x) => x.divisionCode, stored.share, stored.minPerDivision, stored.seed)).toEqual(stored.drawn);
  });

  test('when the quarter is run again (a backfill of a quarter already drawn), then it keeps its draw and starts no inspection twice', async () => {
    const before = (await getStoredDraw(h.db.pool, 're_inspection', quarter))!;
    const again = await (await startReInspection(quarter, `re-inspection-${quarter}-again`)).result();
    expect(again).toMatchObject({ quarter, population: 15, drawn: 4, started: 0, unassigned: [] });
    const after = (await getStoredDraw(h.db.pool, 're_inspection', quarter))!;
    expect(after).toEqual(before);
    expect(await getInspections(h.db.pool, quarter)).toHaveLength(4);
  });
});

describe('inspections', () => {
  const pick = async (division: string) => (await getInspections(h.db.pool, quarter)).filter((i) => i.divisionCode === division);

  test('when the inspector finds the case not rectified, then it is reopened and escalated, someone answers for it, and the result is published', async () => {
    const [target] = await pick(C);
    const handle = cases.get(target.caseId)!;
    const before = await handle.query(statusQuery);
    expect(before).toMatchObject({ status: 'closed', escalationLevel: 0 });
    await inspection(target.caseId);
    const updates = client.workflow.getHandle(inspectionWorkflowIdFor(quarter, target.caseId));

    const stranger = await updates
      .executeUpdate(recordFindingUpdate, { args: [{ actor: { id: 'insp-a1', role: 'inspector' }, finding: 'rectified' }] })
      .catch((e) => e);
    expect(stranger).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(stranger.cause?.message).toMatch(/assigned to another inspector/);

    const note = 'The dust screen was removed after the case closed';
    const view = await updates.executeUpdate(recordFindingUpdate, {
      args: [
        {
          actor: { id: target.inspectorId!, role: 'inspector' },
          finding: 'not_rectified',
          note,
          responsiblePerson: 'Li Wei, deputy director',
        },
      ],
    });
    expect(view).toMatchObject({ published: true, reopen: { outcome: 'reopened' }, finding: { finding: 'not_rectified' } });

    const after = await handle.query(statusQuery);
    expect(after).toMatchObject({ status: 'handling', escalationLevel: before.escalationLevel + 1, reopenCount: 1 });
    const reopened = eventsOf(after, 'reopened')[0];
    expect(reopened.data).toMatchObject({ source: 're_inspection', finding: note });
    expect(after.deadline).toMatchObject({
      kind: 'rework',
      dueAt: new Date(Date.parse(reopened.at) + policy.rectificationDays * DAY).toISOString(),
    });

    const [stored] = await getInspections(h.db.pool, quarter, target.caseId);
    expect(stored).toMatchObject({
      status: 'done',
      finding: 'not_rectified',
      reopenOutcome: 'reopened',
      published: true,
      accountability: { unitId: `unit-${C}`, responsiblePerson: 'Li Wei, deputy director', finding: 'not_rectified' },
    });
    const { items: published, total } = await listPublishedResults(h.db.pool, { limit: 50, offset: 0, quarter });
    expect(total).toBe(published.length);
    expect(published).toEqual([
      expect.objectContaining({ caseId: target.caseId, finding: 'not_rectified', caseReopened: true, unitId: `unit-${C}` }),
    ]);
    expect(JSON.stringify(published)).not.toContain('Li Wei');
  });

  test('when the inspector finds the case rectified, then nothing is reopened, no one is held to account, and the result is published', async () => {
    const [target] = await pick(B);
    await inspection(target.caseId);
    const view = await client.workflow
      .getHandle(inspectionWorkflowIdFor(quarter, target.caseId))
      .executeUpdate(recordFindingUpdate, { args: [{ actor: { id: target.inspectorId!, role: 'inspector' }, finding: 'rectified' }] });
    expect(view).toMatchObject({ published: true, finding: { finding: 'rectified' } });
    expect(view.reopen).toBeUndefined();
    expect((await cases.get(target.caseId)!.query(statusQuery)).status).toBe('closed');
    const [stored] = await getInspections(h.db.pool, quarter, target.caseId);
    expect(stored).toMatchObject({ finding: 'rectified', published: true, accountability: null });
  });

  test('when no finding comes, then the reminders and the overdue notice fire at their exact moments of the inspection period', async () => {
    const [target] = await pick(A);
    const started = await inspection(target.caseId);
    const startedAt = Date.parse(started.startedAt);
    const dueAt = Date.parse(started.dueAt);
    expect(dueAt).toBe(startedAt + 30 * DAY);
    const [first, second] = policy.remindAt.map((f) => pointBetween(startedAt, dueAt, f));
    const at = (ms: number) => new Date(ms).toISOString();

    await h.sleep(first - HOUR - (await h.env.currentTimeMs()));
    expect((await inspection(target.caseId)).reminders).toEqual([]);
    await h.sleep(2 * HOUR);
    let view = await inspection(target.caseId, (v) => v.reminders.length === 1, 'the first reminder');
    expect(view.reminders).toEqual([{ n: 1, at: at(first) }]);

    await h.sleep(second - HOUR - (await h.env.currentTimeMs()));
    expect((await inspection(target.caseId)).reminders).toHaveLength(1);
    await h.sleep(2 * HOUR);
    view = await inspection(target.caseId, (v) => v.reminders.length === 2, 'the second reminder');
    expect(view.reminders[1]).toEqual({ n: 2, at: at(second) });
    expect(view.overdue).toBe(false);

    await h.sleep(dueAt - HOUR - (await h.env.currentTimeMs()));
    expect((await inspection(target.caseId)).overdue).toBe(false);
    await h.sleep(2 * HOUR);
    await inspection(target.caseId, (v) => v.overdue, 'the deadline');

    const [stored] = await getInspections(h.db.pool, quarter, target.caseId);
    expect(stored).toMatchObject({
      status: 'overdue',
      overdueAt: at(dueAt),
      reminders: [
        { n: 1, at: at(first) },
        { n: 2, at: at(second) },
      ],
    });
    const outbox = await h.db.pool.query(`SELECT event_type, recipient FROM outbox WHERE idempotency_key LIKE $1 ORDER BY id`, [
      `inspection:${target.id}:%`,
    ]);
    expect(outbox.rows).toEqual([
      { event_type: 'inspection_reminder', recipient: `inspector:${target.inspectorId}` },
      { event_type: 'inspection_reminder', recipient: `inspector:${target.inspectorId}` },
      { event_type: 'inspection_overdue', recipient: `inspector:${target.inspectorId}` },
      { event_type: 'inspection_overdue', recipient: `supervisor:${A}` },
    ]);
  });
  test('when every inspection has its finding, then the quarter ends with its findings counted', async () => {
    const [overdue, other] = await pick(A);
    for (const [target, finding] of [
      [overdue, 'false_report'],
      [other, 'rectified'],
    ] as const) {
      await client.workflow.getHandle(inspectionWorkflowIdFor(quarter, target.caseId)).executeUpdate(recordFindingUpdate, {
        args: [{ actor: { id: target.inspectorId!, role: 'inspector' }, finding, note: 'Checked on site', responsiblePerson: 'Zhao Lei' }],
      });
    }
    expect(await run.result()).toEqual({
      quarter,
      seed: reInspectionSeed(quarter),
      population: 15,
      drawn: 4,
      started: 4,
      findings: { rectified: 2, not_rectified: 1, false_report: 1 },
      failed: 0,
      unassigned: [],
    });
    const [falseReport] = await getInspections(h.db.pool, quarter, overdue.caseId);
    expect(falseReport).toMatchObject({
      finding: 'false_report',
      published: true,
      accountability: { responsiblePerson: 'Zhao Lei', finding: 'false_report' },
    });
    expect((await listPublishedResults(h.db.pool, { limit: 50, offset: 0, quarter })).items).toHaveLength(4);
  });
});
