import { parseArgs } from 'node:util';
import { mintToken, type Principal } from '../api/auth';
import { defaultPolicy } from '../domain/policy';
import { periodContaining } from '../domain/report';
import { loadConfigOrExit } from '../runtime/config';
import { complaints, projectionRows, type GeneratedComplaint } from '../test/support/generator';

/**
 * `npm run demo [-- --cases 400 --days 30 --seed 7 --concurrency 6]`: fills a RUNNING EcoLoop
 * (`npm start`; API_URL, default http://127.0.0.1:3000) with a realistic month of complaints
 * through the API, as a clerk, the units and a supervisor would: each complaint is registered with
 * its receipt time, then taken as far as its generated plan has got by now (accepted, replied,
 * approved, called back, or forwarded), with a flare-up of complaints about one site in the last
 * three days, which the early-warning watchers catch. Then it asks for the monthly reports of the months touched.
 * Afterwards: cases in the Temporal UI, early warnings at GET /v1/warnings, and real reports.
 * Safe to run again with the same seed: registrations carry Idempotency-Keys.
 */

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '400' },
    days: { type: 'string', default: '30' },
    seed: { type: 'string', default: '7' },
    concurrency: { type: 'string', default: '6' },
  },
});
const API = (process.env.API_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const config = loadConfigOrExit();
const tokens = new Map<string, Promise<string>>();
const tokenFor = (p: Principal) => {
  const key = JSON.stringify(p);
  if (!tokens.has(key)) tokens.set(key, mintToken(config.JWT_SECRET, p));
  return tokens.get(key)!;
};
const clerk = (): Principal => ({ sub: 'clerk-demo', role: 'clerk' });

async function call(method: string, path: string, who: Principal, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await tokenFor(who)}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** A decision, retried while the case is still settling (409: not yet in the state it needs). */
async function decide(caseId: string, path: string, who: Principal, body: unknown): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const res = await call('POST', `/v1/complaints/${caseId}/${path}`, who, body);
    if (res.status === 200) return true;
    if (res.status !== 409 && res.status !== 404) throw new Error(`${path} on ${caseId}: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 150 * (attempt + 1)));
  }
  return false; // linked as a duplicate by the workflow, or gone another way
}

const counts = { registered: 0, driven: 0, skipped: 0, failed: 0 };
function bar(total: number): void {
  const width = 30;
  const done = counts.driven + counts.skipped + counts.failed;
  const filled = Math.round((done / total) * width);
  process.stderr.write(
    `\r  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} complaints (registered ${counts.registered}, merged or settled ${counts.skipped}, failed ${counts.failed})   `,
  );
}

async function play(c: GeneratedComplaint, now: number, seed: number): Promise<void> {
  const reg = await call(
    'POST',
    '/v1/complaints',
    clerk(),
    { ...c.intake, receivedAt: new Date(c.receivedAt).toISOString() },
    {
      'idempotency-key': `demo-${seed}-${c.caseId}`,
    },
  );
  if (reg.status !== 201 && reg.status !== 200) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  counts.registered++;
  const caseId: string = reg.body.caseId;
  // How far the plan has got by now, in the order the workflow takes it.
  const happened = new Set(projectionRows(c, defaultPolicy, now).events.map((e) => e.type));
  const unit: Principal = { sub: `${c.plan.unitId}-officer`, role: 'unit', unitId: c.plan.unitId };
  const steps: Array<[string, string, Principal, unknown]> = [];
  if (c.plan.kind === 'forwarded' && happened.has('closed')) {
    steps.push([
      'closed',
      'forward',
      clerk(),
      { competentBody: 'Housing and urban-rural development bureau', reason: 'Outside environmental jurisdiction' },
    ]);
  }
  if (happened.has('accepted')) steps.push(['accepted', 'accept', clerk(), { unitId: c.plan.unitId }]);
  if (happened.has('result_submitted'))
    steps.push([
      'result_submitted',
      'result',
      unit,
      {
        summary: 'Inspected the site and ordered the operator to stop.',
        reply: 'The source was found and stopped; we will keep checking.',
      },
    ]);
  if (happened.has('result_approved')) steps.push(['result_approved', 'review', clerk(), { decision: 'approved' }]);
  if (happened.has('callback_answered')) {
    const outcome = c.plan.callback;
    steps.push(['callback_answered', 'callback', clerk(), { outcome, ...(outcome === 'dissatisfied' && { reasonableDemand: false }) }]);
  }
  for (const [, path, who, body] of steps) {
    if (!(await decide(caseId, path, who, body))) {
      counts.skipped++;
      return;
    }
  }
  counts.driven++;
}

async function main(): Promise<void> {
  const health = await fetch(`${API}/health`)
    .then((r) => r.json() as Promise<any>)
    .catch(() => undefined);
  if (!health || health.status !== 'ok') {
    process.stderr.write(`EcoLoop is not answering at ${API} (start it with npm start, or set API_URL).\n`);
    process.exit(1);
  }
  const now = Date.now();
  const seed = Number(args.seed);
  const total = Number(args.cases);
  const list = [
    ...complaints({
      seed,
      from: now - Number(args.days) * 86_400_000,
      to: now,
      count: total,
      firstNumber: 1,
      flareUp: { since: now - 3 * 86_400_000, share: 0.25 },
    }),
  ];
  process.stderr.write(`Filling ${API} with ${total} complaints received over the last ${args.days} days (seed ${seed})\n`);
  let next = 0;
  const workers = Array.from({ length: Number(args.concurrency) }, async () => {
    while (next < list.length) {
      const c = list[next++];
      try {
        await play(c, now, seed);
      } catch (err) {
        counts.failed++;
        if (counts.failed <= 3) process.stderr.write(`\n  ${(err as Error).message}\n`);
      }
      bar(total);
    }
  });
  await Promise.all(workers);
  process.stderr.write('\n');

  const analyst: Principal = { sub: 'analyst-demo', role: 'analyst' };
  const months = [...new Set(list.map((c) => periodContaining('monthly', c.receivedAt, defaultPolicy.calendar.utcOffsetMinutes).label))];
  const reports: string[] = [];
  for (const month of months) {
    let res = await call('POST', '/v1/reports', analyst, { kind: 'monthly', period: month });
    // 202 Accepted: poll the generation until it is done.
    while (res.status < 300 && res.body.status === 'running') {
      await new Promise((r) => setTimeout(r, 200));
      res = await call('GET', res.body.links.status, analyst);
    }
    if (res.body?.status === 'completed') reports.push(res.body.reportId);
    else process.stderr.write(`  report ${month}: ${res.status} ${JSON.stringify(res.body)}\n`);
  }
  const warnings = await call('GET', '/v1/warnings', analyst);
  const lines = [
    '',
    `Done: ${counts.registered} complaints registered, ${counts.driven} taken as far as their plan, ${counts.skipped} merged or settled by the workflow, ${counts.failed} failed.`,
    `  Temporal UI:   ${health.temporal?.ui ?? '(see npm start)'}   (filter: WorkflowType="complaintWorkflow")`,
    `  Early warnings: ${warnings.body?.total ?? '?'}   GET ${API}/v1/warnings`,
    ...reports.map((id) => `  Report:        ${API}/v1/reports/${id}?format=html`),
    `  A token:       npm run -s token -- analyst`,
    `  Open a report: curl -s -H "Authorization: Bearer $(npm run -s token -- analyst)" '${API}/v1/reports/${reports[reports.length - 1] ?? 'monthly-YYYY-MM'}?format=html' > report.html`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
