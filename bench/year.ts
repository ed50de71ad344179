import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { mintToken } from '../api/auth';
import { workflowIdFor } from '../domain/case';
import { parsePolicy } from '../domain/schemas/policy';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { http, startApi } from './api';
import { percentile, runLoad, sleep } from './load';
import { fmt, machineLines, main, printSection, progress } from './output';
import { BENCH_UNIT, startStack, uniqueTaskQueue } from './stack';
import { startEcoloopWorker } from './workers';

/**
 * A year of complaints: S × 620,000 (China's national 12369 volume in a year) through the whole
 * loop over HTTP, in the mix of paths the seed describes (/work/shared/DOMAIN.md), with a policy
 * compressed to minutes (no deadline fires) and a monitoring window of seconds (the timer that
 * archives each case). Prints cases a second from the first registration to the last archived
 * workflow, wall time, history events per case, errors, and a progress line as it goes.
 *
 *   npm run bench:year -- --scale 0.0005 [--concurrency 64] [--monitoring 30] [--history-sample 100]
 */

/**
 * The mix: the share of all cases that takes each path. Most are accepted, handled, reviewed and
 * called back satisfied; a share is reworked (review returns the result once), extended (an
 * extension asked and approved), forwarded (out of scope), supplemented (key information missing
 * at registration), review-requested (the complainant asks the next level for a review after the
 * closure, upheld) or a duplicate (of an open case at the same site, registered right after it; that
 * case walks the standard path and counts as one of its cases).
 */
const MIX = {
  standard: 0.72,
  reworked: 0.06,
  extended: 0.04,
  forwarded: 0.04,
  supplemented: 0.04,
  review_requested: 0.03,
  duplicate: 0.07,
} as const;
type Path = keyof typeof MIX;

/** The 12369 hotline's national volume in a year (DOMAIN.md's source). */
const NATIONAL_YEAR = 620_000;

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '0.0005' },
    concurrency: { type: 'string', default: '64' },
    /** Seconds before a closed case is archived (the monitoring window, the one timer that fires): it must outlast the review request that follows a callback. */
    monitoring: { type: 'string', default: '30' },
    /** Cases whose Temporal history is fetched for the events-per-case figure (spread over the paths). */
    'history-sample': { type: 'string', default: '100' },
    /** Seconds between progress lines. */
    every: { type: 'string', default: '10' },
  },
});
const scale = Number(args.scale);
const total = Math.round(scale * NATIONAL_YEAR);
const concurrency = Number(args.concurrency);
const monitoringMs = Number(args.monitoring) * 1000;
const historySample = Number(args['history-sample']);
const progressEveryMs = Number(args.every) * 1000;
const minutes = (amount: number) => ({ amount, unit: 'minutes' as const });

/** Every period in minutes, so that no warning or escalation fires in a run; the monitoring window is seconds. */
const policy = parsePolicy({
  version: 'bench-year',
  defaults: {
    supplement: minutes(60),
    accept: minutes(60),
    handle: minutes(60),
    maxExtension: minutes(30),
    rework: minutes(60),
    callback: { attempts: 1, spacing: minutes(60) },
    reviewRequestWindow: minutes(60),
    reviewDue: minutes(60),
    monitoringWindow: minutes(monitoringMs / 60_000),
  },
  urgent: {},
});

/**
 * The jobs of a run: one per case, but a duplicate and its open case are one job (the open case
 * registered first, the duplicate right after it). Paths are spread evenly over the run (a
 * low-discrepancy sequence), so every stretch of the run has the mix.
 */
function plan(): Path[] {
  const cases = Object.fromEntries(Object.entries(MIX).map(([path, share]) => [path, Math.round(share * total)])) as Record<Path, number>;
  // The standard path takes what rounding left over, so that the cases add up to the total.
  cases.standard = total - (Object.keys(cases) as Path[]).filter((p) => p !== 'standard').reduce((n, p) => n + cases[p], 0);
  // Each duplicate's open case is one of the standard cases.
  const jobs: Record<Path, number> = { ...cases, standard: Math.max(0, cases.standard - cases.duplicate) };
  const paths = Object.keys(jobs) as Path[];
  const count = paths.reduce((n, p) => n + jobs[p], 0);
  const left = { ...jobs };
  const out: Path[] = [];
  const golden = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < count; i++) {
    // Pick the path whose share of the jobs so far lags most behind its target, with a golden-ratio tie-break.
    let best: Path | undefined;
    let bestLag = -Infinity;
    for (const p of paths) {
      if (left[p] === 0) continue;
      const lag = (jobs[p] / count) * (i + 1) - (jobs[p] - left[p]) + ((i * golden) % 1) * 1e-9;
      if (lag > bestLag) [best, bestLag] = [p, lag];
    }
    left[best!]--;
    out.push(best!);
  }
  return out;
}

/** What one history holds: its events, for the events-per-case figure. */
async function historyEvents(client: Client, workflowId: string): Promise<number> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events?.length ?? 0;
}

main(async () => {
  if (!(total > 0)) throw new Error(`--scale ${args.scale} gives no cases`);
  const jobs = plan();
  progress(
    `${fmt.n(total)} cases (scale ${scale} × ${fmt.n(NATIONAL_YEAR)}) in ${fmt.n(jobs.length)} jobs; starting Temporal, PostgreSQL, the worker and the API`,
  );
  const stack = await startStack();
  const machine = machineLines(stack);
  const taskQueue = uniqueTaskQueue('bench-year');
  const worker = await startEcoloopWorker(stack, { taskQueue });
  const api = await startApi(stack, { taskQueue, policy });
  const unitToken = await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'bench-unit', role: 'unit', unitId: BENCH_UNIT.unitId });
  const supervisorToken = await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'bench-supervisor', role: 'supervisor', divisions: ['3701'] });
  const run = randomBytes(3).toString('hex');

  let ticker: NodeJS.Timeout | undefined;
  try {
    const workflowIds: string[] = [];
    const byPath = new Map<Path, string[]>();
    const decisionLatencies: number[] = [];
    let casesDone = 0;
    let registered = 0;

    /**
     * The API answers 503 when Temporal does not answer in time (a loaded machine): a client retries,
     * after the Retry-After it is given, and with the same Idempotency-Key a decision is never
     * applied twice. Counted, and printed.
     */
    let retried = 0;
    const call = async (method: 'GET' | 'POST', target: string, token: string, body?: unknown, key?: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await http(method, target, token, body, key ? { 'idempotency-key': key } : {});
        } catch (err) {
          if (attempt >= 10 || !/ answered 503:/.test((err as Error).message)) throw err;
          retried++;
          await sleep(1_000);
        }
      }
    };
    const decisionsTaken = new Map<string, number>();
    const url = (caseId: string, decision?: string) => `${api.baseUrl}/v1/complaints/${caseId}${decision ? `/${decision}` : ''}`;
    const decide = async (token: string, caseId: string, decision: string, body: unknown) => {
      const n = (decisionsTaken.get(caseId) ?? 0) + 1;
      decisionsTaken.set(caseId, n);
      const t0 = performance.now();
      await call('POST', url(caseId, decision), token, body, `year-${run}-${caseId}-${n}`);
      decisionLatencies.push(performance.now() - t0);
    };
    /** As a clerk would: read the case until the workflow has put it where the next decision belongs. */
    const waitFor = async (caseId: string, ready: (view: any) => boolean) => {
      for (let i = 0; i < 600; i++) {
        if (ready((await call('GET', url(caseId), api.token)).body)) return;
        await sleep(100);
      }
      throw new Error(`case ${caseId} did not get there in a minute`);
    };
    const register = async (path: Path, i: number, extra: Record<string, unknown> = {}) => {
      const res = await call(
        'POST',
        `${api.baseUrl}/v1/complaints`,
        api.token,
        {
          channel: 'hotline',
          category: 'noise',
          divisionCode: '370102',
          title: `Year bench ${i} (${path})`,
          description: 'Construction noise after midnight.',
          reporter: { anonymous: false, name: 'Bench Reporter', phone: '13900000000' },
          ...extra,
        },
        `year-${run}-${i}-${path}`,
      );
      const caseId = res.body.caseId as string;
      workflowIds.push(workflowIdFor(caseId));
      byPath.set(path, [...(byPath.get(path) ?? []), workflowIdFor(caseId)]);
      registered++;
      return caseId;
    };
    const accepted = async (caseId: string) => {
      await waitFor(caseId, (v) => v.status === 'pending_acceptance');
      await decide(api.token, caseId, 'accept', { unitId: BENCH_UNIT.unitId });
    };
    const handled = (caseId: string) => decide(unitToken, caseId, 'result', { summary: 'Fixed.', reply: 'Work stopped at night.' });
    const approvedAndCalledBack = async (caseId: string) => {
      await decide(api.token, caseId, 'review', { decision: 'approved' });
      await decide(api.token, caseId, 'callback', { outcome: 'satisfied' });
    };
    const standard = async (caseId: string) => {
      await accepted(caseId);
      await handled(caseId);
      await approvedAndCalledBack(caseId);
    };

    /** One job: its cases through their path, up to their last decision (the archive timer runs on its own). */
    const walk: Record<Path, (i: number) => Promise<number>> = {
      standard: async (i) => {
        await standard(await register('standard', i));
        return 1;
      },
      reworked: async (i) => {
        const caseId = await register('reworked', i);
        await accepted(caseId);
        await handled(caseId);
        await decide(api.token, caseId, 'review', { decision: 'returned', reason: 'The reply does not say when the work stops.' });
        await handled(caseId);
        await approvedAndCalledBack(caseId);
        return 1;
      },
      extended: async (i) => {
        const caseId = await register('extended', i);
        await accepted(caseId);
        await decide(unitToken, caseId, 'extension-request', { amount: 10, reason: 'Noise measurements at night take a week.' });
        await decide(supervisorToken, caseId, 'extension-decision', { decision: 'approved', reason: 'Measurements are needed.' });
        await handled(caseId);
        await approvedAndCalledBack(caseId);
        return 1;
      },
      forwarded: async (i) => {
        const caseId = await register('forwarded', i);
        await waitFor(caseId, (v) => v.status === 'pending_acceptance');
        await decide(api.token, caseId, 'forward', { competentBody: 'Municipal housing bureau', reason: 'Outside environmental scope.' });
        return 1;
      },
      supplemented: async (i) => {
        const caseId = await register('supplemented', i, { missing: ['contact'] });
        await waitFor(caseId, (v) => v.status === 'awaiting_supplement');
        await decide(api.token, caseId, 'supplement', { reporter: { phone: '13900000001' }, note: 'Called the complainant back.' });
        await standard(caseId);
        return 1;
      },
      review_requested: async (i) => {
        const caseId = await register('review_requested', i);
        await standard(caseId);
        await decide(api.token, caseId, 'review-request', { reason: 'The noise came back the next week.' });
        await decide(supervisorToken, caseId, 'review-decision', { decision: 'upheld', reason: 'Measurements show the limit is kept.' });
        return 1;
      },
      duplicate: async (i) => {
        // A site of its own: the duplicate is linked to this open case, not to another job's.
        const location = { siteId: `year-${run}-site-${i}`, address: `No. ${i} Gongye Road` };
        const open = await register('standard', i, { location });
        await waitFor(open, (v) => v.status === 'pending_acceptance');
        const duplicate = await register('duplicate', i, { location });
        await waitFor(duplicate, (v) => v.closure === 'duplicate');
        await standard(open);
        return 2;
      },
    };

    const load = { errors: 0 };
    const started = performance.now();
    let lastProgress = started;
    ticker = setInterval(() => {
      const s = (performance.now() - started) / 1000;
      progress(
        `  ${fmt.n(casesDone)}/${fmt.n(total)} cases walked, ${fmt.n(registered)} registered, ${fmt.n(casesDone / s, 1)} cases/s, ${load.errors} errors, ${fmt.n(s)} s`,
      );
      lastProgress = performance.now();
    }, progressEveryMs);
    const result = await runLoad({ concurrency, count: jobs.length, durationMs: 24 * 60 * 60_000 }, async (i) => {
      try {
        const walked = await walk[jobs[i]](i);
        casesDone += walked;
      } catch (err) {
        if (load.errors++ === 0) progress(`  first error (${jobs[i]}): ${(err as Error).message}`);
        throw err;
      }
    });
    const walkedMs = performance.now() - started;
    progress(`all jobs walked in ${fmt.n(walkedMs / 1000, 1)} s; waiting for every workflow to archive`);
    let archived = 0;
    let failedWorkflows = 0;
    let firstWorkflowError: string | undefined;
    for (let i = 0; i < workflowIds.length; i += 200) {
      await Promise.all(
        workflowIds.slice(i, i + 200).map((id) =>
          Promise.race([
            stack.client.workflow.getHandle(id).result(),
            // A case whose job failed midway waits for a decision that never comes: not archived.
            sleep(monitoringMs + 120_000).then(() => Promise.reject(new Error('not archived within 2 minutes of the last decision'))),
          ]).then(
            () => archived++,
            (err: Error) => {
              failedWorkflows++;
              firstWorkflowError ??= `${id}: ${err.message}`;
            },
          ),
        ),
      );
      if (performance.now() - lastProgress > progressEveryMs) {
        progress(`  ${fmt.n(archived)}/${fmt.n(workflowIds.length)} workflows archived`);
        lastProgress = performance.now();
      }
    }
    const wallMs = performance.now() - started;
    clearInterval(ticker);

    // Events per case: the Temporal histories of a sample, spread over the paths in proportion.
    progress(`fetching ${historySample} histories for the events per case`);
    const sampleIds: string[] = [];
    const step = Math.max(1, Math.floor(workflowIds.length / historySample));
    for (let i = 0; i < workflowIds.length && sampleIds.length < historySample; i += step) sampleIds.push(workflowIds[i]);
    const events = await Promise.all(sampleIds.map((id) => historyEvents(stack.client, id)));
    const eventsByPath = await Promise.all(
      (Object.keys(MIX) as Path[]).map(async (p) => {
        const ids = byPath.get(p) ?? [];
        const n = ids.length > 0 ? await historyEvents(stack.client, ids[0]) : NaN;
        return `| ${p} | ${fmt.n(MIX[p] * 100, 0)}% | ${fmt.n(ids.length)} | ${fmt.n(n)} |`;
      }),
    );
    const projected = Number((await api.pool.query(`SELECT count(*) AS n FROM case_events`)).rows[0].n);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

    printSection('A year of complaints', 'bench:year', machine, [
      `Scale ${scale}: ${fmt.n(total)} cases (of ${fmt.n(NATIONAL_YEAR)} a year), ${fmt.n(jobs.length)} jobs, concurrency ${concurrency}; policy in minutes (no deadline fires), monitoring window ${monitoringMs / 1000} s (the timer that archives each case).`,
      '',
      `**${fmt.n(archived / (wallMs / 1000), 2)} cases a second** (archived workflows / wall time; the goal is 21.5, a national year in 8 hours). ` +
        `Wall time ${fmt.n(wallMs / 1000, 1)} s from the first registration to the last archived workflow (decisions all taken after ${fmt.n(walkedMs / 1000, 1)} s).`,
      `Errors: ${result.errors} jobs failed${result.firstError ? ` (first: ${result.firstError})` : ''}; ${failedWorkflows} workflows failed${firstWorkflowError ? ` (first: ${firstWorkflowError})` : ''}; ${fmt.n(archived)} of ${fmt.n(workflowIds.length)} registered workflows archived.`,
      `Events per case: ${fmt.n(mean(events), 1)} Temporal history events (mean of ${events.length} cases spread over the run; p50 ${fmt.n(percentile(events, 50))}, max ${fmt.n(Math.max(...events))}); ${fmt.n(projected / Math.max(1, workflowIds.length), 1)} case events in the read model.`,
      `503 answers retried (Temporal did not answer the API in time): ${fmt.n(retried)}. Decision latency over HTTP (retries included): p50 ${fmt.ms(percentile(decisionLatencies, 50))}, p99 ${fmt.ms(percentile(decisionLatencies, 99))} (${fmt.n(decisionLatencies.length)} decisions).`,
      '',
      '| path | share | cases | history events (first case) |',
      '| --- | ---: | ---: | ---: |',
      ...eventsByPath,
    ]);
  } finally {
    clearInterval(ticker);
    await api.stop();
    await worker.stop();
    await stack.stop();
  }
});
