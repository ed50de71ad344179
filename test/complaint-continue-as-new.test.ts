import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { LEAN_START } from '../domain/case';
import { PROJECT_IN_WORKFLOW_TASK, WAKE_ON_CHANGES_DURING_PROJECTION } from '../workflows/complaint';
import { acceptUpdate, decideExtensionUpdate, requestExtensionUpdate, statusQuery, escalateUpdate } from '../workflows/contracts/complaint';
import { testDataConverter } from './support/temporal';
import { ComplaintHarness, DAY, HOUR, clerk, eventAt, eventsOf, supervisor, unit } from './support/complaint-harness';

let h: ComplaintHarness;
beforeAll(async () => {
  h = await ComplaintHarness.create('can');
});
afterAll(async () => {
  await h?.teardown();
});

test('when the history grows past the limit, then the case continues as new with its state, timeline and pending deadlines intact', async () => {
  // A low limit stands in for the server's continue-as-new suggestion (4,096 events).
  const handle = await h.start({}, { continueAsNewAfterEvents: 25 });
  await h.waitForEvent(handle, 'registered_for_acceptance');
  await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
  await handle.executeUpdate(escalateUpdate, { args: [{ actor: supervisor, reason: 'Media attention' }] });
  await handle.executeUpdate(requestExtensionUpdate, { args: [{ actor: unit(), amount: 10, reason: 'Lab tests' }] });
  let view = await handle.executeUpdate(decideExtensionUpdate, {
    args: [{ actor: supervisor, decision: 'approved', reason: 'Tests needed' }],
  });
  const accepted = Date.parse(view.acceptedAt!);
  const before = view;

  // Some idle time (a warning fires) pushes the history past the limit.
  await h.sleep(60 * DAY);
  view = await h.waitForEvent(handle, 'deadline_warning');
  const description = await handle.describe();
  expect(description.runId).not.toBe(handle.firstExecutionRunId);
  expect(description.status.name).toBe('RUNNING');

  // Nothing was lost: the earlier timeline, the level, the extension, the moved deadline.
  expect(view.timeline.slice(0, before.timeline.length)).toEqual(before.timeline);
  expect(view.escalationLevel).toBe(1);
  expect(view.extensionGranted).toBe(10);
  expect(view.owner).toEqual(clerk);
  expect(Date.parse(view.deadline!.dueAt)).toBe(accepted + 70 * DAY);
  expect(eventAt(view, 'deadline_warning')).toBe(accepted + 56 * DAY);

  // The pending deadline still fires at its exact moment in the new run.
  await h.sleep(10 * DAY + HOUR);
  view = await h.waitForEvent(handle, 'supervision_notice');
  expect(eventAt(view, 'supervision_notice')).toBe(accepted + 70 * DAY);
  expect(eventsOf(view, 'supervision_notice')).toHaveLength(1);
  const seqs = view.timeline.map((e) => e.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));

  // The read model saw every event exactly once across runs.
  const { rows } = await h.db.pool.query(`SELECT count(*)::int AS n, max(seq) AS m FROM case_events WHERE case_id = $1`, [view.caseId]);
  expect(rows[0]).toEqual({ n: view.timeline.length, m: view.timeline.length });
  expect((await handle.query(statusQuery)).status).toBe('handling');
});

/** The patch ids a history's markers record. */
function patchesIn(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

test('when a case started before LEAN_START continues as new, then the new run is started lean: no patch marker, the same case', async () => {
  const handle = await h.start({}, { continueAsNewAfterEvents: 20, beforeLeanStart: true });
  await h.waitForEvent(handle, 'registered_for_acceptance');
  const first = await handle.fetchHistory();
  expect(patchesIn(first)).toEqual([WAKE_ON_CHANGES_DURING_PROJECTION, PROJECT_IN_WORKFLOW_TASK]);
  // An acceptance pushes the history past the limit: the case continues as new.
  await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
  const continued = h.env.client.workflow.getHandle(handle.workflowId);
  const deadline = Date.now() + 20_000;
  while ((await continued.describe()).runId === handle.firstExecutionRunId) {
    if (Date.now() > deadline) throw new Error('the case did not continue as new');
    await new Promise((r) => setTimeout(r, 50));
  }
  const next = await continued.fetchHistory();
  const started = next.events?.[0]?.workflowExecutionStartedEventAttributes;
  let payloads = started?.input?.payloads ?? [];
  for (const codec of [...(testDataConverter.payloadCodecs ?? [])].reverse()) payloads = await codec.decode(payloads);
  const input = defaultPayloadConverter.fromPayload(payloads[0]);
  expect(input).toMatchObject({ writePath: LEAN_START, resume: { caseId: (await handle.query(statusQuery)).caseId } });
  expect(patchesIn(next)).toEqual([]);
  expect((await continued.query(statusQuery)).status).toBe('handling');
  await continued.terminate('test over');
});
