import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { quietRuntime, testDataConverter } from './support/temporal';

/**
 * Determinism guard: stored histories of the main paths (recorded by the lifecycle tests with
 * ECOLOOP_RECORD_HISTORIES=1) must replay against today's workflow code. A change that breaks
 * determinism for cases in flight fails here.
 */
const dir = path.join(__dirname, 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.binpb')).sort();

test('when the stored histories of the main paths are replayed, then every one replays without a nondeterminism error', async () => {
  quietRuntime();
  expect(files).toEqual(
    expect.arrayContaining([
      'acceptance-ladder.binpb',
      'handling-extension.binpb',
      'insufficient.binpb',
      'recurrence-reopen.binpb',
      'resolved-archived.binpb',
      'callback-unreachable.binpb',
      'review-overturned.binpb',
    ]),
  );
  const histories = files.map((file) => ({
    workflowId: file.replace(/\.binpb$/, ''),
    history: temporal.api.history.v1.History.decode(fs.readFileSync(path.join(dir, file))),
  }));
  const codePath = process.env.ECOLOOP_TEST_WORKFLOW_BUNDLE!;
  const results: Array<{ workflowId: string; error?: unknown }> = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath }, replayName: 'ecoloop-replay', dataConverter: testDataConverter }, histories)) {
    results.push({ workflowId: result.workflowId, error: result.error });
  }
  expect(results.map((r) => r.workflowId).sort()).toEqual(histories.map((h) => h.workflowId).sort());
  for (const r of results) expect({ workflowId: r.workflowId, error: r.error ? String(r.error) : undefined }).toEqual({ workflowId: r.workflowId, error: undefined });
});
