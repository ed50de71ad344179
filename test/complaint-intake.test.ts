import { ApplicationFailure } from '@temporalio/common';
import {
  acceptUpdate,
  forwardUpdate,
  recordCallbackUpdate,
  reviewUpdate,
  statusQuery,
  submitResultUpdate,
  supplementUpdate,
  INVALID_TRANSITION,
} from '../workflows/contracts/complaint';
import { getReporter } from '../db/cases';
import { lockIntakeSites } from '../db/intake-sites';
import { duplicateLockKeys } from '../domain/intake-sites';
import { defaultPolicy } from '../domain/policy';
import { testReporterKeys } from './support/temporal';
import { ComplaintHarness, DAY, HOUR, clerk, eventAt, eventsOf, unit, type ComplaintHandle } from './support/complaint-harness';

let h: ComplaintHarness;
beforeAll(async () => {
  h = await ComplaintHarness.create('intake');
});
afterAll(async () => {
  await h?.teardown();
});

async function closeResolved(handle: ComplaintHandle) {
  await h.waitForEvent(handle, 'registered_for_acceptance');
  await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
  await handle.executeUpdate(submitResultUpdate, {
    args: [{ actor: unit(), summary: 'Boiler shut down', reply: 'The boiler was sealed.' }],
  });
  await handle.executeUpdate(reviewUpdate, { args: [{ actor: clerk, decision: 'approved' }] });
  return handle.executeUpdate(recordCallbackUpdate, { args: [{ actor: clerk, outcome: 'satisfied' }] });
}

describe('missing information', () => {
  test('when key information is missing and supplemented within 7 days, then the case is registered for acceptance from the supplement', async () => {
    const handle = await h.start({ missing: ['location'] });
    let view = await h.waitForEvent(handle, 'supplement_requested');
    expect(view.status).toBe('awaiting_supplement');
    const requested = eventAt(view, 'supplement_requested');
    expect(Date.parse(view.deadline!.dueAt)).toBe(requested + 7 * DAY);
    expect(eventsOf(view, 'supplement_requested')[0].notify).toEqual([`complainant:${view.caseId}`]);

    // Acceptance is impossible before the supplement.
    const early = await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'u' }] }).catch((e) => e);
    expect((early.cause as ApplicationFailure).type).toBe(INVALID_TRANSITION);
    expect((early.cause as ApplicationFailure).message).toContain("'awaiting_supplement'");

    await h.sleep(3 * DAY);
    view = await handle.executeUpdate(supplementUpdate, {
      args: [{ actor: clerk, location: { address: 'No. 8 Industrial Road', lat: 36.6, lon: 117.0 }, note: 'Called back the complainant' }],
    });
    expect(view.status).toBe('pending_acceptance');
    const supplemented = eventAt(view, 'supplemented');
    expect(supplemented).toBeGreaterThanOrEqual(requested + 3 * DAY);
    expect(supplemented).toBeLessThan(requested + 3 * DAY + 60_000);
    expect(Date.parse(view.deadline!.dueAt)).toBe(supplemented + 15 * DAY);
  });

  test('when the complainant supplements contact details, then only those fields change, consent is kept, and the stored reporter is updated', async () => {
    const handle = await h.start({
      missing: ['contact'],
      reporter: { anonymous: false, name: 'Sun Li', consentToShareWithUnit: true },
    });
    await h.waitForEvent(handle, 'supplement_requested');
    await handle.executeUpdate(supplementUpdate, { args: [{ actor: clerk, reporter: { phone: '13700001111' } }] });
    const caseId = handle.workflowId.replace('complaint-', '');
    const deadline = Date.now() + 10_000;
    let stored = await getReporter(h.db.pool, testReporterKeys, caseId);
    while (stored?.phone !== '13700001111' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      stored = await getReporter(h.db.pool, testReporterKeys, caseId);
    }
    expect(stored).toEqual({ anonymous: false, name: 'Sun Li', phone: '13700001111', consentToShareWithUnit: true });
    expect((await handle.query(statusQuery)).reporterConsent).toBe(true);
  });

  test('when key information is never supplemented, then the case closes as insufficient exactly 7 days later', async () => {
    const handle = await h.start({ missing: ['contact', 'location'] });
    const view0 = await h.waitForEvent(handle, 'supplement_requested');
    const requested = eventAt(view0, 'supplement_requested');
    await h.sleep(7 * DAY - HOUR);
    expect((await handle.query(statusQuery)).status).toBe('awaiting_supplement');
    await h.sleep(2 * HOUR);
    const outcome = await handle.result();
    expect(outcome.closure).toBe('insufficient');
    const view = await handle.query(statusQuery);
    expect(view.status).toBe('archived');
    expect(eventAt(view, 'closed')).toBe(requested + 7 * DAY);
    await h.recordHistory(handle, 'insufficient');
  });
});

describe('out of scope', () => {
  test('when a matter is outside the scope, then it is numbered, forwarded to the competent body, and closes as forwarded', async () => {
    const handle = await h.start({ category: 'other', title: 'Neighbour dispute over parking' });
    await h.waitForEvent(handle, 'registered_for_acceptance');
    const view = await handle.executeUpdate(forwardUpdate, {
      args: [{ actor: clerk, competentBody: 'Public Security Bureau', reason: 'Not an environmental matter' }],
    });
    expect(view.status).toBe('archived');
    expect(view.closure).toBe('forwarded');
    expect(eventsOf(view, 'closed')[0].notify).toContain('competent-body:Public Security Bureau');
    expect((await handle.result()).closure).toBe('forwarded');
  });
});

describe('duplicates and recurrences', () => {
  test('when a complaint repeats an open case nearby, then it is linked to that case, closes as duplicate, and its complainant gets the open case updates', async () => {
    const location = { lat: 36.651, lon: 117.12, address: 'Chemical park east gate' };
    const primary = await h.start({ location });
    await h.waitForEvent(primary, 'registered_for_acceptance');
    await primary.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });

    // 200 m away, same category, a day later.
    await h.sleep(DAY);
    const dup = await h.start({
      location: { lat: 36.6528, lon: 117.12 },
      reporter: { anonymous: false, name: 'Zhao', phone: '139', consentToShareWithUnit: false },
    });
    const outcome = await dup.result();
    expect(outcome).toMatchObject({ closure: 'duplicate', mergedInto: primary.workflowId.replace('complaint-', '') });

    let view = await h.waitForEvent(primary, 'duplicate_linked');
    const dupCaseId = dup.workflowId.replace('complaint-', '');
    expect(view.linkedCases).toEqual([dupCaseId]);

    // The duplicate's complainant is told of what happens to the open case, and gets its callback.
    await primary.executeUpdate(submitResultUpdate, { args: [{ actor: unit(), summary: 'Fixed', reply: 'Fixed.' }] });
    await primary.executeUpdate(reviewUpdate, { args: [{ actor: clerk, decision: 'approved' }] });
    view = await primary.executeUpdate(recordCallbackUpdate, { args: [{ actor: clerk, outcome: 'satisfied' }] });
    expect(eventsOf(view, 'closed')[0].notify).toEqual(
      expect.arrayContaining([`complainant:${primary.workflowId.replace('complaint-', '')}`, `complainant:${dupCaseId}`]),
    );
    const { rows } = await h.db.pool.query(`SELECT event_type FROM outbox WHERE case_id = $1 AND recipient = $2 ORDER BY event_seq`, [
      view.caseId,
      `complainant:${dupCaseId}`,
    ]);
    expect(rows.map((r) => r.event_type)).toContain('closed');
    // Not handled twice: the duplicate never reached acceptance.
    expect(eventsOf(await dup.query(statusQuery), 'registered_for_acceptance')).toHaveLength(0);
  });

  test('when a new complaint concerns the site of a recently closed case, then that case reopens one level higher instead of a new one opening', async () => {
    const site = { siteId: 'ENT-370102-0042', address: 'Jinan No. 2 Cement Works' };
    const first = await h.start({ category: 'dust', location: site });
    const closed = await closeResolved(first);
    expect(closed.status).toBe('closed');

    await h.sleep(20 * DAY);
    const again = await h.start({ category: 'dust', location: site });
    expect((await again.result()).closure).toBe('recurrence');
    const view = await h.waitForEvent(first, 'reopened');
    expect(view.status).toBe('handling');
    expect(view.escalationLevel).toBe(1);
    expect(view.reopenCount).toBe(1);
    expect(eventsOf(view, 'reopened')[0].data).toMatchObject({
      source: 'recurrence',
      recurrenceCaseId: again.workflowId.replace('complaint-', ''),
    });
    expect(view.linkedCases).toContain(again.workflowId.replace('complaint-', ''));
    await h.recordHistory(first, 'recurrence-reopen');
  });
});

describe('decisions while the intake check runs', () => {
  // The read model can show the check's outcome before the workflow task that produced it is
  // recorded (a task whose completion failed runs again, its local activities with it): a clerk who
  // accepts then must not be refused. The test holds the check in PostgreSQL, under the advisory
  // locks of the case's site (db/intake-sites.ts), as a slow check or a retried task would.
  const location = { siteId: 'site-intake-wait' };
  async function holdIntakeLocks() {
    const client = await h.db.pool.connect();
    await client.query('BEGIN');
    await lockIntakeSites(client, duplicateLockKeys('air', location, defaultPolicy.intake.duplicateRadiusMeters));
    return {
      release: async () => {
        await client.query('COMMIT');
        client.release();
      },
    };
  }
  const pending = async (p: Promise<unknown>, ms: number) =>
    Promise.race([
      p.then(
        () => 'settled',
        () => 'settled',
      ),
      new Promise((r) => setTimeout(() => r('pending'), ms)),
    ]);

  test('when a case is accepted while its intake check runs, then the decision waits for the check and is applied after it', async () => {
    const locks = await holdIntakeLocks();
    const handle = await h.start({ location });
    await h.waitFor(handle, (v) => v.status === 'registered', 'the intake check under way');
    const accepted = handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
    expect(await pending(accepted, 1_500)).toBe('pending');
    expect((await handle.query(statusQuery)).status).toBe('registered');
    await locks.release();
    const view = await accepted;
    expect(view.status).toBe('handling');
    expect(view.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['registered_for_acceptance', 'accepted']));
    expect(eventAt(view, 'accepted')).toBeGreaterThanOrEqual(eventAt(view, 'registered_for_acceptance'));
  });

  test('when the check finds the case a duplicate meanwhile, then a forward sent during it is refused as an invalid transition', async () => {
    // The case of the test before is open at the site: a new one there is its duplicate.
    const locks = await holdIntakeLocks();
    const handle = await h.start({ location });
    await h.waitFor(handle, (v) => v.status === 'registered', 'the intake check under way');
    const forwarded = handle.executeUpdate(forwardUpdate, {
      args: [{ actor: clerk, competentBody: 'Housing bureau', reason: 'Not environmental' }],
    });
    expect(await pending(forwarded, 1_500)).toBe('pending');
    await locks.release();
    const failure = await forwarded.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((failure as { cause?: ApplicationFailure })?.cause).toMatchObject({ type: INVALID_TRANSITION });
    expect(await handle.result()).toMatchObject({ closure: 'duplicate' });
  });
});
