import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import {
  acceptUpdate,
  decideReviewUpdate,
  recordCallbackUpdate,
  reopenUpdate,
  requestReviewUpdate,
  reviewUpdate,
  statusQuery,
  submitResultUpdate,
} from '../workflows/contracts/complaint';
import type { Reporter } from '../domain/case';
import { ComplaintHarness, DAY, HOUR, clerk, eventAt, eventsOf, supervisor, unit, type ComplaintHandle } from './support/complaint-harness';

let h: ComplaintHarness;
beforeAll(async () => {
  h = await ComplaintHarness.create('verify');
});
afterAll(async () => {
  await h?.teardown();
});

const anonymous: Reporter = { anonymous: true, consentToShareWithUnit: false };

async function toReview(handle: ComplaintHandle) {
  await h.waitForEvent(handle, 'registered_for_acceptance');
  await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
  return handle.executeUpdate(submitResultUpdate, {
    args: [{ actor: unit(), summary: 'Boiler fitted with a filter', reply: 'We fitted a filter on 3 May.' }],
  });
}

async function toCallback(handle: ComplaintHandle) {
  await toReview(handle);
  return handle.executeUpdate(reviewUpdate, { args: [{ actor: clerk, decision: 'approved' }] });
}

describe('compliance review', () => {
  test('when the owner returns a reply, then the unit gets a rework deadline, and returns can repeat until the reply is approved', async () => {
    const handle = await h.start();
    let view = await toReview(handle);
    expect(view.status).toBe('under_review');
    expect(view.deadline).toBeUndefined();

    view = await handle.executeUpdate(reviewUpdate, {
      args: [{ actor: clerk, decision: 'returned', reason: 'The reply does not say whether emissions were measured', reworkDays: 10 }],
    });
    expect(view.status).toBe('handling');
    expect(view.returns).toBe(1);
    const returned = eventAt(view, 'result_returned');
    expect(view.deadline).toMatchObject({ kind: 'rework', dueAt: new Date(returned + 10 * DAY).toISOString() });
    expect(eventsOf(view, 'result_returned')[0].notify).toContain('unit:unit-1');

    // A rework deadline is supervised like any other: the unit is warned at 80% of it.
    await h.sleep(8 * DAY + HOUR);
    view = await h.waitForEvent(handle, 'deadline_warning');
    expect(eventAt(view, 'deadline_warning')).toBe(returned + 8 * DAY);

    await handle.executeUpdate(submitResultUpdate, {
      args: [{ actor: unit(), summary: 'Measured', reply: 'Emissions measured: 12 mg/m3.' }],
    });
    // Without reworkDays, the policy's rework limit (15 days) applies.
    view = await handle.executeUpdate(reviewUpdate, { args: [{ actor: clerk, decision: 'returned', reason: 'Attach the lab report' }] });
    expect(view.returns).toBe(2);
    expect(Date.parse(view.deadline!.dueAt)).toBe(eventAt(view, 'result_returned', 1) + 15 * DAY);

    await handle.executeUpdate(submitResultUpdate, { args: [{ actor: unit(), summary: 'Report attached', reply: 'Lab report no. 42.' }] });
    view = await handle.executeUpdate(reviewUpdate, { args: [{ actor: clerk, decision: 'approved' }] });
    expect(view.status).toBe('callback');
  });
});

describe('callback', () => {
  test('when the complainant is satisfied, then the case closes as resolved and is monitored for 150 days before it is archived', async () => {
    const handle = await h.start();
    await toCallback(handle);
    let view = await handle.executeUpdate(recordCallbackUpdate, { args: [{ actor: clerk, outcome: 'basically_satisfied' }] });
    expect(view).toMatchObject({ status: 'closed', closure: 'resolved' });
    const closedAt = Date.parse(view.closedAt!);
    expect(Date.parse(view.reviewRequestUntil!)).toBe(closedAt + 30 * DAY);
    expect(Date.parse(view.monitoringUntil!)).toBe(closedAt + 150 * DAY);

    await h.sleep(150 * DAY - HOUR);
    expect((await handle.query(statusQuery)).status).toBe('closed');
    await h.sleep(2 * HOUR);
    const outcome = await handle.result();
    expect(outcome.closure).toBe('resolved');
    view = await handle.query(statusQuery);
    expect(view.status).toBe('archived');
    expect(eventAt(view, 'archived')).toBe(closedAt + 150 * DAY);
    await h.recordHistory(handle, 'resolved-archived');
  });

  test('when the complainant is dissatisfied with a reasonable demand, then the case returns to the unit with a deadline', async () => {
    const handle = await h.start();
    await toCallback(handle);
    const missing = await handle.executeUpdate(recordCallbackUpdate, { args: [{ actor: clerk, outcome: 'dissatisfied' }] }).catch((e) => e);
    expect((missing.cause as ApplicationFailure).message).toMatch(/whether the demand is reasonable/);

    const view = await handle.executeUpdate(recordCallbackUpdate, {
      args: [{ actor: clerk, outcome: 'dissatisfied', reasonableDemand: true, note: 'The smoke came back the next week' }],
    });
    expect(view.status).toBe('handling');
    expect(view.deadline?.kind).toBe('rework');
    expect(Date.parse(view.deadline!.dueAt)).toBe(eventAt(view, 'returned_after_callback') + 15 * DAY);
    expect(eventsOf(view, 'returned_after_callback')[0].reason).toBe('The smoke came back the next week');
  });

  test('when the complainant is dissatisfied with an unreasonable demand, then the case closes as resolved_dissatisfied', async () => {
    const handle = await h.start();
    await toCallback(handle);
    const view = await handle.executeUpdate(recordCallbackUpdate, {
      args: [{ actor: clerk, outcome: 'dissatisfied', reasonableDemand: false, note: 'Wants the factory closed' }],
    });
    expect(view).toMatchObject({ status: 'closed', closure: 'resolved_dissatisfied' });
  });

  test('when the complainant cannot be reached, then three attempts a day apart are made and the case closes as unreachable after the last', async () => {
    const handle = await h.start();
    let view = await toCallback(handle);
    const first = eventAt(view, 'callback_attempt_started');
    expect(Date.parse(view.deadline!.dueAt)).toBe(first + DAY);

    // The clerk records the first failure by hand; the next two simply run out.
    view = await handle.executeUpdate(recordCallbackUpdate, { args: [{ actor: clerk, outcome: 'unreachable', note: 'No answer' }] });
    expect(view.callbackAttempts).toBe(1);
    const second = eventAt(view, 'callback_attempt_started', 1);

    await h.sleep(DAY + HOUR);
    view = await h.waitForEvent(handle, 'callback_attempt_started', 3);
    expect(eventAt(view, 'callback_attempt_started', 2)).toBe(second + DAY);
    await h.sleep(DAY);
    view = await h.waitFor(handle, (v) => v.status === 'closed', 'closed');
    expect(view.closure).toBe('unreachable');
    expect(view.callbackAttempts).toBe(3);
    expect(eventAt(view, 'closed')).toBe(second + 2 * DAY);
    await h.recordHistory(handle, 'callback-unreachable');
  });

  test('when the complainant is anonymous, then the callback is skipped and that is recorded', async () => {
    const handle = await h.start({ reporter: anonymous });
    const view = await toCallback(handle);
    expect(view).toMatchObject({ status: 'closed', closure: 'no_callback' });
    expect(eventsOf(view, 'callback_skipped')[0].reason).toMatch(/anonymous/);
    expect(eventsOf(view, 'callback_attempt_started')).toHaveLength(0);
  });
});

describe('after closure', () => {
  test('when the complainant asks for a review within 30 days, then the next level has 30 days, and overturning reopens the case', async () => {
    const handle = await h.start();
    await toCallback(handle);
    await handle.executeUpdate(recordCallbackUpdate, { args: [{ actor: clerk, outcome: 'dissatisfied', reasonableDemand: false }] });
    await h.sleep(29 * DAY);
    let view = await handle.executeUpdate(requestReviewUpdate, {
      args: [{ actor: clerk, reason: 'The complainant disputes the measurement' }],
    });
    expect(view.status).toBe('review_requested');
    const requested = eventAt(view, 'review_requested');
    expect(view.deadline).toMatchObject({ kind: 'review', dueAt: new Date(requested + 30 * DAY).toISOString() });

    view = await handle.executeUpdate(decideReviewUpdate, {
      args: [{ actor: supervisor, decision: 'overturned', reason: 'Measurement was taken upwind' }],
    });
    expect(view.status).toBe('handling');
    expect(eventsOf(view, 'reopened')[0].data).toMatchObject({ source: 'review' });
    await h.recordHistory(handle, 'review-overturned');
  });

  test('when the review window has passed, then a review request is refused, and an upheld review closes the case again', async () => {
    const handle = await h.start();
    await toCallback(handle);
    await handle.executeUpdate(recordCallbackUpdate, { args: [{ actor: clerk, outcome: 'satisfied' }] });
    await h.sleep(10 * DAY);
    await handle.executeUpdate(requestReviewUpdate, { args: [{ actor: clerk, reason: 'Second thoughts' }] });
    let view = await handle.executeUpdate(decideReviewUpdate, {
      args: [{ actor: supervisor, decision: 'upheld', reason: 'Handled correctly' }],
    });
    expect(view).toMatchObject({ status: 'closed', closure: 'resolved' });

    await h.sleep(21 * DAY);
    const late = await handle.executeUpdate(requestReviewUpdate, { args: [{ actor: clerk, reason: 'Too late' }] }).catch((e) => e);
    expect(late).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((late.cause as ApplicationFailure).message).toMatch(/review window ended/);
    view = await handle.query(statusQuery);
    expect(view.status).toBe('closed');
  });

  test('when a spot check finds a closed case not rectified, then it reopens with the finding and is monitored again after it closes', async () => {
    const handle = await h.start();
    await toCallback(handle);
    await handle.executeUpdate(recordCallbackUpdate, { args: [{ actor: clerk, outcome: 'satisfied' }] });
    await h.sleep(90 * DAY);
    let view = await handle.executeUpdate(reopenUpdate, {
      args: [
        {
          actor: { id: 'insp-1', role: 'inspector' },
          reason: 'Quarterly re-inspection',
          source: 're_inspection',
          escalate: false,
          finding: 'Filter removed',
        },
      ],
    });
    expect(view).toMatchObject({ status: 'handling', reopenCount: 1 });
    expect(view.monitoringUntil).toBeUndefined();
    expect(eventsOf(view, 'reopened')[0].data).toMatchObject({ source: 're_inspection', finding: 'Filter removed' });
    // The old monitoring window no longer archives it.
    await h.sleep(40 * DAY);
    view = await handle.query(statusQuery);
    expect(view.status).toBe('handling');
    expect(eventsOf(view, 'archived')).toHaveLength(0);
  });
});
