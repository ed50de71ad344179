import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { PROJECT_IN_WORKFLOW_TASK, WAKE_ON_CHANGES_DURING_PROJECTION } from '../workflows/complaint';
import { PROJECT_REWARD_PAYMENTS } from '../workflows/reward';
import { quietRuntime, testDataConverter } from './support/temporal';

/**
 * Determinism guard: stored histories of the main paths (recorded by the lifecycle tests with
 * ECOLOOP_RECORD_HISTORIES=1) must replay against today's workflow code. A change that breaks
 * determinism for cases in flight fails here. The histories from before the complaint workflow's
 * wake-up patch stay as they were; those recorded after it are named `<path>.wake-patch.binpb`, and
 * those recorded after the write-path patch (projection as a local activity) `<path>.write-patch.binpb`,
 * and those started lean (`writePath` in the input: no patch asked, the duplicate check a local
 * activity; domain/case.ts, LEAN_START) `<path>.lean-start.binpb`.
 * A reward's whole path (test/rewards.test.ts) is stored from before the reward workflow projected its
 * payments (`reward-confirmed-paid.binpb`) and after (`reward-confirmed-paid.payment-patch.binpb`).
 */
const dir = path.join(__dirname, 'histories');
/** The suffix of histories recorded with the complaint workflow's wake-up patch, and with the write-path patch too. */
const PATCHED = 'wake-patch';
const WRITE_PATCHED = 'write-patch';
/** The suffix of histories of cases started lean: they record no patch marker at all. */
const LEAN_STARTED = 'lean-start';
/** The suffix of reward histories recorded with the reward workflow's payment projection. */
const PAYMENT_PATCHED = 'payment-patch';

/** The patch ids whose markers a history records. */
function patchesIn(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const payload = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0] : undefined;
    return payload ? [(JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')) as { id: string }).id] : [];
  });
}
/** The regular activities a history schedules. */
function activitiesIn(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.binpb'))
  .sort();

test('when the stored histories of the main paths are replayed, then every one replays without a nondeterminism error', async () => {
  quietRuntime();
  // Each main path four times: recorded before the wake-up patch (cases in flight then), after it, after the
  // write-path patch, and started lean.
  const paths = [
    'acceptance-ladder',
    'handling-extension',
    'insufficient',
    'recurrence-reopen',
    'resolved-archived',
    'callback-unreachable',
    'review-overturned',
  ];
  expect(files).toEqual(
    expect.arrayContaining([
      ...paths.flatMap((p) => [`${p}.binpb`, `${p}.${PATCHED}.binpb`, `${p}.${WRITE_PATCHED}.binpb`, `${p}.${LEAN_STARTED}.binpb`]),
      'reward-confirmed-paid.binpb',
      `reward-confirmed-paid.${PAYMENT_PATCHED}.binpb`,
    ]),
  );
  const histories = files.map((file) => ({
    workflowId: file.replace(/\.binpb$/, ''),
    history: temporal.api.history.v1.History.decode(fs.readFileSync(path.join(dir, file))),
  }));
  for (const { workflowId, history } of histories) {
    expect({ workflowId, patches: patchesIn(history) }).toEqual({
      workflowId,
      patches: workflowId.endsWith(`.${PAYMENT_PATCHED}`)
        ? [PROJECT_REWARD_PAYMENTS]
        : workflowId.endsWith(`.${WRITE_PATCHED}`)
          ? [WAKE_ON_CHANGES_DURING_PROJECTION, PROJECT_IN_WORKFLOW_TASK]
          : workflowId.endsWith(`.${PATCHED}`)
            ? [WAKE_ON_CHANGES_DURING_PROJECTION]
            : [],
    });
    // Started lean, the duplicate check is a local activity like the projection: no regular activity is scheduled.
    if (workflowId.endsWith(`.${LEAN_STARTED}`))
      expect({ workflowId, scheduled: activitiesIn(history) }).toEqual({ workflowId, scheduled: [] });
  }
  const codePath = process.env.ECOLOOP_TEST_WORKFLOW_BUNDLE!;
  const results: Array<{ workflowId: string; error?: unknown }> = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath }, replayName: 'ecoloop-replay', dataConverter: testDataConverter },
    histories,
  )) {
    results.push({ workflowId: result.workflowId, error: result.error });
  }
  expect(results.map((r) => r.workflowId).sort()).toEqual(histories.map((h) => h.workflowId).sort());
  for (const r of results)
    expect({ workflowId: r.workflowId, error: r.error ? (r.error as Error).message : undefined }).toEqual({
      workflowId: r.workflowId,
      error: undefined,
    });
});
