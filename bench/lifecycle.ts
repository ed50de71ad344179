import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { mintToken } from '../api/auth';
import { workflowIdFor } from '../domain/case';
import { parsePolicy } from '../domain/schemas/policy';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { lifecycleBaselineWorkflow, stepUpdate } from './workflows';
import { http, startApi } from './api';
import { percentile, runLoad, sleep } from './load';
import { fmt, machineLines, main, printSection, progress } from './output';
import { startStack, uniqueTaskQueue } from './stack';
import { startBaselineWorker, startEcoloopWorker } from './workers';

/**
 * Lifecycle: N complaints driven through the whole loop over HTTP (register, wait for
 * pending_acceptance, accept, result, review, callback: closed; then the monitoring window's
 * durable timer archives it), with a seconds-scale policy. Cases per minute from the first
 * registration to the last archived workflow, against a raw-Temporal baseline doing the same
 * number of workflow starts, updates and timers (bench/workflows.ts) in the same run.
 *
 *   npm run bench:lifecycle -- [--count 1000] [--concurrency 50]
 */

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    /** Seconds before a closed case is archived (the monitoring window): the one timer that fires. */
    monitoring: { type: 'string', default: '5' },
  },
});
const count = Number(args.count);
const concurrency = Number(args.concurrency);
const monitoringMs = Number(args.monitoring) * 1000;
const minutes = (amount: number) => ({ amount, unit: 'minutes' as const });

/** Decisions get half an hour (no warning fires in a run); the monitoring window is seconds. */
const policy = parsePolicy({
  version: 'bench-lifecycle',
  defaults: {
    supplement: minutes(30),
    accept: minutes(30),
    handle: minutes(30),
    rework: minutes(30),
    callback: { attempts: 1, spacing: minutes(30) },
    monitoringWindow: minutes(monitoringMs / 60_000),
  },
  urgent: {},
});
const UPDATES = 4;
/**
 * A case's deadline clocks while it waits for a decision: acceptance, handling, callback (none while
 * the result is under review). Each is a timer started and, when the decision comes, cancelled.
 */
const TIMED_WAITS = 3;

/** What one workflow's history holds, by kind. */
async function historyShape(client: Client, workflowId: string): Promise<{ events: number; text: string }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const counts = new Map<string, number>();
  for (const e of history.events ?? []) {
    const kind = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
    if (kind) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const n = (k: string) => counts.get(`${k}EventAttributes`) ?? 0;
  const events = history.events?.length ?? 0;
  return {
    events,
    text: `${events} history events: ${n('workflowTaskCompleted')} workflow tasks, ${n('workflowExecutionUpdateAccepted')} updates, ${n('timerStarted')} timers started (${n('timerFired')} fired), ${n('activityTaskScheduled')} activities`,
  };
}

async function awaitAll(client: Client, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 200) await Promise.all(ids.slice(i, i + 200).map((id) => client.workflow.getHandle(id).result()));
}

main(async () => {
  progress('starting Temporal, PostgreSQL, workers and the API');
  const stack = await startStack();
  const machine = machineLines(stack);
  const rawQueue = uniqueTaskQueue('bench-raw-life');
  const ecoQueue = uniqueTaskQueue('bench-life');
  const baseline = await startBaselineWorker(stack, { taskQueue: rawQueue });
  const worker = await startEcoloopWorker(stack, { taskQueue: ecoQueue });
  const api = await startApi(stack, { taskQueue: ecoQueue, policy });
  const unitToken = await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'bench-unit', role: 'unit', unitId: 'bureau-370102' });
  const run = randomBytes(3).toString('hex');

  try {
    // ---- Raw Temporal: the same starts, updates and timers, nothing else ----
    progress(`raw baseline: ${count} workflows, ${UPDATES} updates each, concurrency ${concurrency}`);
    const rawIds: string[] = [];
    const rawUpdateLatencies: number[] = [];
    const rawStarted = performance.now();
    const rawLoad = await runLoad({ concurrency, count, durationMs: 30 * 60_000 }, async (i) => {
      const id = `raw-life-${run}-${i}`;
      const handle = await stack.rawClient.workflow.start(lifecycleBaselineWorkflow, {
        taskQueue: rawQueue,
        workflowId: id,
        args: [{ updates: UPDATES, timedWaits: TIMED_WAITS, waitTimeoutMs: 30 * 60_000, finalTimerMs: monitoringMs }],
      });
      for (let step = 1; step <= UPDATES; step++) {
        const t0 = performance.now();
        await handle.executeUpdate(stepUpdate, { args: [step] });
        rawUpdateLatencies.push(performance.now() - t0);
      }
      rawIds.push(id);
    });
    await awaitAll(stack.rawClient, rawIds);
    const rawMs = performance.now() - rawStarted;

    // ---- EcoLoop through the API ----
    progress(`EcoLoop: ${count} complaints through the HTTP API, concurrency ${concurrency}`);
    const ids: string[] = [];
    const decisionLatencies: number[] = [];
    let polls = 0;
    const timed = async <T>(p: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const out = await p();
      decisionLatencies.push(performance.now() - t0);
      return out;
    };
    const ecoStarted = performance.now();
    const ecoLoad = await runLoad({ concurrency, count, durationMs: 30 * 60_000 }, async (i) => {
      const reg = await http(
        'POST',
        `${api.baseUrl}/v1/complaints`,
        api.token,
        {
          channel: 'hotline',
          category: 'noise',
          divisionCode: '370102',
          title: `Lifecycle bench ${i}`,
          description: 'Construction noise after midnight.',
          reporter: { anonymous: false, name: 'Bench Reporter', phone: '13900000000' },
        },
        { 'idempotency-key': `life-${run}-${i}` },
      );
      const caseId = reg.body.caseId as string;
      const url = `${api.baseUrl}/v1/complaints/${caseId}`;
      // As a clerk would: accept once the intake checks have put the case up for acceptance.
      for (;;) {
        polls++;
        if ((await http('GET', url, api.token)).body.status === 'pending_acceptance') break;
        await sleep(100);
      }
      await timed(() => http('POST', `${url}/accept`, api.token, { unitId: 'bureau-370102' }));
      await timed(() => http('POST', `${url}/result`, unitToken, { summary: 'Fixed.', reply: 'Work stopped at night.' }));
      await timed(() => http('POST', `${url}/review`, api.token, { decision: 'approved' }));
      await timed(() => http('POST', `${url}/callback`, api.token, { outcome: 'satisfied' }));
      // Only a case whose calls all succeeded reaches the archive timer: the others are errors.
      ids.push(workflowIdFor(caseId));
    });
    await awaitAll(stack.client, ids);
    const ecoMs = performance.now() - ecoStarted;

    const perMinute = (n: number, ms: number) => (n / ms) * 60_000;
    const rawRate = perMinute(rawLoad.completed, rawMs);
    const ecoRate = perMinute(ecoLoad.completed, ecoMs);
    const rawShape = await historyShape(stack.rawClient, rawIds[0]);
    const ecoShape = await historyShape(stack.client, ids[0]);
    printSection('Lifecycle', 'bench:lifecycle', machine, [
      `N = ${count} cases per side, concurrency ${concurrency}; monitoring window ${monitoringMs / 1000} s (the timer that archives each case). Raw baseline first, then EcoLoop.`,
      '',
      '| path | completed | errors | wall time | cases per minute | p50 per case | p99 per case |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| raw Temporal: start + ${UPDATES} updates + timers | ${rawLoad.completed} | ${rawLoad.errors} | ${fmt.n(rawMs / 1000, 1)} s | ${fmt.n(rawRate)} | ${fmt.ms(percentile(rawLoad.latencies, 50))} | ${fmt.ms(percentile(rawLoad.latencies, 99))} |`,
      `| EcoLoop over HTTP: register + ${UPDATES} decisions + archive | ${ecoLoad.completed} | ${ecoLoad.errors} | ${fmt.n(ecoMs / 1000, 1)} s | ${fmt.n(ecoRate)} | ${fmt.ms(percentile(ecoLoad.latencies, 50))} | ${fmt.ms(percentile(ecoLoad.latencies, 99))} |`,
      '',
      `**Ratio (EcoLoop / raw): ${(ecoRate / rawRate).toFixed(2)}**. Per case "p50/p99" is the driver's time for one case's calls (the archive timer excluded).`,
      `EcoLoop decision (update) latency over HTTP: p50 ${fmt.ms(percentile(decisionLatencies, 50))}, p99 ${fmt.ms(percentile(decisionLatencies, 99))}; raw update latency (client to workflow and back): p50 ${fmt.ms(percentile(rawUpdateLatencies, 50))}, p99 ${fmt.ms(percentile(rawUpdateLatencies, 99))}: **decision p50 ${(percentile(decisionLatencies, 50) / percentile(rawUpdateLatencies, 50)).toFixed(2)}× the raw update's**. ${fmt.n(polls / Math.max(1, ecoLoad.completed), 1)} status reads per case while waiting for acceptance.`,
      '',
      `- one raw workflow: ${rawShape.text}`,
      `- one EcoLoop case: ${ecoShape.text}`,
      `- **events per case: ${(ecoShape.events / rawShape.events).toFixed(2)}× the raw workflow's**`,
      ...(rawLoad.firstError || ecoLoad.firstError ? ['', `First error: ${ecoLoad.firstError ?? rawLoad.firstError}`] : []),
    ]);
  } finally {
    await api.stop();
    await worker.stop();
    await baseline.stop();
    await stack.stop();
  }
});
