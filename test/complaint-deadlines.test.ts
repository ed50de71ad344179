import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  acceptUpdate,
  decideExtensionUpdate,
  escalateUpdate,
  requestExtensionUpdate,
  statusQuery,
  transferUpdate,
} from '../workflows/contracts/complaint';
import { defaultPolicy } from '../domain/policy';
import { parsePolicy } from '../domain/schemas/policy';
import { ComplaintHarness, DAY, HOUR, clerk, eventAt, eventsOf, supervisor, unit } from './support/complaint-harness';

let h: ComplaintHarness;
beforeAll(async () => {
  h = await ComplaintHarness.create('deadlines');
});
afterAll(async () => {
  await h?.teardown();
});

const limits = defaultPolicy.defaults;

describe('acceptance deadline and the escalation ladder', () => {
  test('when a case is not accepted, then it warns at 80% of 15 days and climbs supervision, city and provincial at 15, 22 and 30 days', async () => {
    const handle = await h.start();
    let view = await h.waitForEvent(handle, 'registered_for_acceptance');
    // The acceptance period runs from receipt.
    const start = Date.parse(view.receivedAt);
    expect(Date.parse(view.deadline!.dueAt)).toBe(start + 15 * DAY);

    await h.sleep(12 * DAY - HOUR);
    view = await handle.query(statusQuery);
    expect(eventsOf(view, 'deadline_warning')).toHaveLength(0);

    await h.sleep(2 * HOUR);
    view = await h.waitForEvent(handle, 'deadline_warning');
    expect(eventAt(view, 'deadline_warning')).toBe(start + limits.warningAt * 15 * DAY);
    expect(view.escalationLevel).toBe(0);

    await h.sleep(3 * DAY);
    view = await h.waitForEvent(handle, 'supervision_notice');
    expect(eventAt(view, 'supervision_notice')).toBe(start + 15 * DAY);
    expect(view.escalationLevel).toBe(1);
    expect(view.deadline?.overdue).toBe(true);
    expect(eventsOf(view, 'escalated_city')).toHaveLength(0);

    await h.sleep(7 * DAY);
    view = await h.waitForEvent(handle, 'escalated_city');
    expect(eventAt(view, 'escalated_city')).toBe(start + 22 * DAY);
    expect(view.escalation).toBe('city');

    await h.sleep(8 * DAY);
    view = await h.waitForEvent(handle, 'escalated_provincial');
    expect(eventAt(view, 'escalated_provincial')).toBe(start + 30 * DAY);
    expect(eventAt(view, 'backlog_listed')).toBe(start + 30 * DAY);
    expect(view.escalationLevel).toBe(3);
    expect(view.escalation).toBe('provincial');

    // Accepting late starts the handling clock, and the level does not go down by itself.
    view = await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
    expect(view.status).toBe('handling');
    expect(view.escalationLevel).toBe(3);
    expect(view.deadline?.overdue).toBe(false);
    await h.recordHistory(handle, 'acceptance-ladder');
  });
});

describe('handling deadline, extensions and transfer', () => {
  test('when a unit handles a case, then the 60-day deadline warns at day 48 and an approved extension moves it, within the 30-day cap', async () => {
    const handle = await h.start();
    await h.waitForEvent(handle, 'registered_for_acceptance');
    let view = await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
    const accepted = Date.parse(view.acceptedAt!);
    expect(Date.parse(view.deadline!.dueAt)).toBe(accepted + 60 * DAY);

    await h.sleep(48 * DAY + HOUR);
    view = await h.waitForEvent(handle, 'deadline_warning');
    expect(eventAt(view, 'deadline_warning')).toBe(accepted + 48 * DAY);

    view = await handle.executeUpdate(requestExtensionUpdate, {
      args: [{ actor: unit(), amount: 20, reason: 'Needs a monitoring campaign over three weekends' }],
    });
    expect(view.pendingExtension).toEqual({ amount: 20, reason: 'Needs a monitoring campaign over three weekends' });

    // A second request while one is pending is impossible.
    await expect(handle.executeUpdate(requestExtensionUpdate, { args: [{ actor: unit(), amount: 5, reason: 'again' }] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );

    view = await handle.executeUpdate(decideExtensionUpdate, {
      args: [{ actor: supervisor, decision: 'approved', reason: 'Monitoring data is needed to decide on penalties' }],
    });
    expect(view.extensionGranted).toBe(20);
    expect(Date.parse(view.deadline!.dueAt)).toBe(accepted + 80 * DAY);
    // The complainant is told why.
    const approved = eventsOf(view, 'extension_approved')[0];
    expect(approved.reason).toBe('Monitoring data is needed to decide on penalties');
    expect(approved.notify).toContain(`complainant:${view.caseId}`);

    // Only 10 more days may ever be granted.
    const over = await handle
      .executeUpdate(requestExtensionUpdate, { args: [{ actor: unit(), amount: 15, reason: 'more' }] })
      .catch((e) => e);
    expect(over).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((over.cause as ApplicationFailure).message).toMatch(/at most 10 more days/);

    await handle.executeUpdate(requestExtensionUpdate, { args: [{ actor: unit(), amount: 10, reason: 'Lab backlog' }] });
    view = await handle.executeUpdate(decideExtensionUpdate, {
      args: [{ actor: supervisor, decision: 'denied', reason: 'The lab results are not needed for the reply' }],
    });
    expect(view.extensionGranted).toBe(20);
    expect(eventsOf(view, 'extension_denied')[0].notify).toContain(`complainant:${view.caseId}`);

    // The moved deadline, not the original, is what goes overdue.
    await h.sleep(60 * DAY - 48 * DAY);
    view = await handle.query(statusQuery);
    expect(eventsOf(view, 'supervision_notice')).toHaveLength(0);
    await h.sleep(20 * DAY);
    view = await h.waitForEvent(handle, 'supervision_notice');
    expect(eventAt(view, 'supervision_notice')).toBe(accepted + 80 * DAY);
    await h.recordHistory(handle, 'handling-extension');
  });

  test('when a case is transferred to another unit, then the first receiver stays its owner and the new unit is notified', async () => {
    const handle = await h.start();
    await h.waitForEvent(handle, 'registered_for_acceptance');
    await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
    const view = await handle.executeUpdate(transferUpdate, {
      args: [{ actor: clerk, unitId: 'unit-2', reason: 'The site lies in the neighbouring county' }],
    });
    expect(view.unitId).toBe('unit-2');
    expect(view.owner).toEqual(clerk);
    const transferred = eventsOf(view, 'transferred')[0];
    expect(transferred.data).toEqual({ from: 'unit-1', to: 'unit-2' });
    expect(transferred.notify).toEqual(expect.arrayContaining(['unit:unit-2', 'unit:unit-1']));
    // The old unit may no longer act on it.
    await expect(
      handle.executeUpdate(requestExtensionUpdate, { args: [{ actor: unit('unit-1'), amount: 5, reason: 'x' }] }),
    ).rejects.toThrow(WorkflowUpdateFailedError);
  });
});

describe('manual escalation', () => {
  test('when a supervisor escalates by hand, then the level rises with the reason recorded and never goes down', async () => {
    const handle = await h.start();
    await h.waitForEvent(handle, 'registered_for_acceptance');
    let view = await handle.executeUpdate(escalateUpdate, {
      args: [{ actor: supervisor, reason: 'Repeated media reports', level: 2 }],
    });
    expect(view.escalationLevel).toBe(2);
    expect(eventsOf(view, 'escalated')[0]).toMatchObject({ reason: 'Repeated media reports', data: { from: 0, escalationLevel: 2 } });

    const down = await handle
      .executeUpdate(escalateUpdate, { args: [{ actor: supervisor, reason: 'calmer now', level: 1 }] })
      .catch((e) => e);
    expect(down).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((down.cause as ApplicationFailure).message).toMatch(/only goes up/);

    // The overdue ladder does not lower it either: step 1 (supervision) keeps level 2.
    await h.sleep(15 * DAY + HOUR);
    view = await h.waitForEvent(handle, 'supervision_notice');
    expect(view.escalationLevel).toBe(2);

    view = await handle.executeUpdate(escalateUpdate, { args: [{ actor: supervisor, reason: 'Unresolved for a month' }] });
    expect(view.escalationLevel).toBe(3);
    expect(eventsOf(view, 'backlog_listed')).toHaveLength(1);
  });
});

describe('urgent incidents and working-day policies', () => {
  test('when a pollution incident is urgent, then its limits are hours: accept within 2 h, warning at 96 min, city after 4 h', async () => {
    const handle = await h.start({ urgency: 'urgent', category: 'water' });
    let view = await h.waitForEvent(handle, 'registered_for_acceptance');
    const start = Date.parse(view.receivedAt);
    expect(Date.parse(view.deadline!.dueAt)).toBe(start + 2 * HOUR);
    await h.sleep(2 * HOUR + 2 * HOUR + 60_000);
    view = await h.waitForEvent(handle, 'escalated_city');
    expect(eventAt(view, 'deadline_warning')).toBe(start + 0.8 * 2 * HOUR);
    expect(eventAt(view, 'supervision_notice')).toBe(start + 2 * HOUR);
    expect(eventAt(view, 'escalated_city')).toBe(start + 4 * HOUR);
  });

  test('when the policy counts working days, then the acceptance deadline skips weekends and holidays', async () => {
    const policy = parsePolicy({ version: 'working-days-test', defaults: { accept: { amount: 5, unit: 'working_days' } } });
    const handle = await h.start({}, { policy });
    const view = await h.waitForEvent(handle, 'registered_for_acceptance');
    expect(view.policyVersion).toBe('working-days-test');
    const start = Date.parse(view.receivedAt);
    const due = Date.parse(view.deadline!.dueAt);
    // Five working days always span at least a weekend: more than 5 and at most 5 + 2 + holidays calendar days.
    expect(due - start).toBeGreaterThan(6 * DAY);
    // The deadline is the end of a local (UTC+8) day.
    expect((due + 8 * HOUR) % DAY).toBe(0);
  });
});
