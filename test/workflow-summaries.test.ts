import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { Principal } from '../api/auth';
import type { ComplaintInput } from '../domain/case';
import { casePolicy, defaultPolicy, type Policy } from '../domain/policy';
import { complaintStartMetadata } from '../domain/workflow-summaries';
import { governanceSchedules } from '../worker/governance-schedules';
import { reportSchedules } from '../worker/report-schedules';
import { supervisionSchedules } from '../worker/schedules';
import { syncSchedules } from '../worker/schedule-sync';
import { COMPLAINT_WORKFLOW, workflowIdFor, type ComplaintWorkflow } from '../workflows/contracts/complaint';
import { ApiHarness } from './support/api-harness';
import { testDataConverter } from './support/temporal';

/**
 * What an operator reads in the Temporal UI (docs/operations.md, "Reading a case in the Temporal
 * UI"), against the real dev server: each workflow's static summary (the workflow list), a
 * complaint's current details (the `__temporal_workflow_metadata` query the UI asks), and the
 * summaries its timers and activities carry in the history (the timeline). The acceptance clock is
 * seconds long here, so that its warning and two escalation steps fire on a server that does not
 * skip time.
 */

let api: ApiHarness;
const principals = {
  clerk: { sub: 'clerk-sum', role: 'clerk' },
  supervisor: { sub: 'sup-sum', role: 'supervisor', divisions: ['3701'] },
  analyst: { sub: 'ana-sum', role: 'analyst' },
} satisfies Record<string, Principal>;
const tokens = {} as Record<keyof typeof principals, string>;
const REPORTER = { anonymous: false, name: 'Zhou Min', phone: '13712345678', email: 'zhou.min@example.org', consentToShareWithUnit: false };

/** Acceptance within 6 s, its warning at 3 s, supervision at the deadline, the city 3 s after it. */
const secondsPolicy: Policy = {
  ...defaultPolicy,
  defaults: {
    ...defaultPolicy.defaults,
    accept: { amount: 0.1, unit: 'minutes' },
    warningAt: 0.5,
    ladder: {
      supervision: { amount: 0, unit: 'minutes' },
      city: { amount: 0.05, unit: 'minutes' },
      provincial: { amount: 1, unit: 'days' },
    },
  },
};

beforeAll(async () => {
  api = await ApiHarness.create('summaries');
  api.policy = secondsPolicy;
  for (const [name, p] of Object.entries(principals)) tokens[name as keyof typeof principals] = await api.token(p);
});
afterAll(async () => {
  await api?.teardown();
});

/** A payload of the history (user metadata included), through the codec as the UI's codec server decodes it. */
async function decode(payload: Payload | null | undefined): Promise<unknown> {
  if (!payload) return undefined;
  let decoded = [payload];
  for (const codec of [...(testDataConverter.payloadCodecs ?? [])].reverse()) decoded = await codec.decode(decoded);
  return defaultPayloadConverter.fromPayload(decoded[0]);
}

/** The summaries of the history's events of one kind, in order. */
async function summaries(events: temporal.api.history.v1.IHistoryEvent[], has: (e: temporal.api.history.v1.IHistoryEvent) => unknown) {
  const out: unknown[] = [];
  for (const e of events.filter(has)) out.push(await decode(e.userMetadata?.summary));
  return out;
}

async function currentDetails(workflowId: string): Promise<string> {
  const metadata = await api.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

async function staticSummary(workflowId: string): Promise<string | undefined> {
  return (await api.client.workflow.getHandle(workflowId).describe()).staticSummary();
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function register(title: string, location: Record<string, unknown> = {}): Promise<string> {
  const res = await api.request('POST', '/v1/complaints', {
    token: tokens.clerk,
    body: {
      channel: 'hotline',
      category: 'water',
      divisionCode: '370112',
      title,
      description: 'Dark water discharged into the river behind the paper mill every night.',
      location,
      reporter: REPORTER,
    },
  });
  expect(res.status).toBe(201);
  return res.body.caseId as string;
}

const reporterValues = [REPORTER.name, REPORTER.phone, REPORTER.email];

describe('a complaint in the Temporal UI', () => {
  let caseId: string;
  let workflowId: string;
  const detailsSeen: string[] = [];

  test('when a complaint is registered, then its workflow carries a summary with the case number, category and division, and never the reporter', async () => {
    caseId = await register('Paper mill discharge at night');
    workflowId = workflowIdFor(caseId);
    const description = await api.client.workflow.getHandle(workflowId).describe();
    const summary = await description.staticSummary();
    expect(summary).toBe(`Case ${caseId} · water · division 370112`);
    expect(await description.staticDetails()).toContain('Paper mill discharge at night');
    for (const value of reporterValues) expect(`${summary} ${await description.staticDetails()}`).not.toContain(value);
    // Like every payload, the summary is stored encrypted: only the codec shows it.
    const raw = description.raw.executionConfig?.userMetadata?.summary;
    expect(Buffer.from(raw?.metadata?.encoding ?? new Uint8Array()).toString()).toBe('binary/encrypted');
  });

  test('when the case awaits acceptance, then its current details show the status, no unit, the acceptance deadline and level 0', async () => {
    const details = await until('the acceptance details', async () => {
      const d = await currentDetails(workflowId);
      return d.includes('pending acceptance') ? d : undefined;
    });
    expect(details).toContain('**Unit:** none yet');
    expect(details).toMatch(/\*\*Deadline:\*\* acceptance deadline due \d{4}-\d\d-\d\dT/);
    expect(details).toContain('**Escalation:** none (level 0)');
    detailsSeen.push(details);
  });

  test('when the acceptance deadline passes and the case is then accepted, then the details follow each step and the timers read as the deadlines they stand for', async () => {
    const escalated = await until('escalation to the city', async () => {
      const d = await currentDetails(workflowId);
      return d.includes('(level 2)') ? d : undefined;
    });
    expect(escalated).toContain('**Escalation:** city (level 2)');
    expect(escalated).toMatch(/acceptance deadline due \S+, overdue/);
    detailsSeen.push(escalated);

    const accepted = await api.request('POST', `/v1/complaints/${caseId}/accept`, {
      token: tokens.clerk,
      body: { unitId: 'licheng-bureau' },
    });
    expect(accepted.status).toBe(200);
    const handling = await currentDetails(workflowId);
    expect(handling).toContain('**Status:** handling');
    expect(handling).toContain('**Unit:** licheng-bureau');
    expect(handling).toContain('**Deadline:** handling deadline due');
    detailsSeen.push(handling);
    expect(new Set(detailsSeen).size).toBe(3);
    for (const d of detailsSeen) for (const value of reporterValues) expect(d).not.toContain(value);

    const history = await api.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const timers = await summaries(events, (e) => e.timerStartedEventAttributes);
    expect(timers).toEqual([
      'warning before the acceptance deadline',
      'acceptance deadline: escalation to supervision',
      'escalation to the city (acceptance deadline passed)',
      // Started after the city step, cancelled by the acceptance.
      'escalation to the province (acceptance deadline passed)',
      'warning before the handling deadline',
    ]);
    expect(events.filter((e) => e.timerCanceledEventAttributes)).toHaveLength(1);
    // A case started lean (domain/case.ts, LEAN_START) schedules no regular activity: the duplicate check and the
    // projections run as local activities, in the workflow task of their events, and each marker carries its summary.
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
    const [check, ...projections] = (await summaries(
      events,
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    )) as string[];
    expect(check).toBe('look for a duplicate (open case) or a recurrence (recently closed case)');
    expect(projections.length).toBeGreaterThanOrEqual(3);
    for (const p of projections) expect(p).toMatch(/^project events? \d+(–\d+)?$/);
    expect(projections[0]).toMatch(/^project events 1–\d+$/);
  });
});

describe('a complaint continued as new', () => {
  test('when a case continues as new, then the new run, which has no static summary, still opens its details with the case summary', async () => {
    const caseId = `EC-2026-${String(Math.floor(Math.random() * 9_000_000) + 1_000_000)}`;
    const intake = {
      channel: 'web',
      category: 'air',
      urgency: 'normal',
      divisionCode: '370102',
      title: 'Smoke from the boiler house',
      description: 'Black smoke every morning',
      location: {},
      reporter: { ...REPORTER },
      missing: [],
    } satisfies ComplaintInput['intake'];
    // A low limit stands in for the server's continue-as-new suggestion, as in test/complaint-continue-as-new.test.ts.
    const input: ComplaintInput = {
      caseId,
      intake,
      receivedAt: Date.now(),
      owner: { id: principals.clerk.sub, role: 'clerk' },
      policy: casePolicy(defaultPolicy, 'air', 'normal'),
      continueAsNewAfterEvents: 12,
    };
    const first = await api.client.workflow.start<ComplaintWorkflow>(COMPLAINT_WORKFLOW, {
      taskQueue: api.taskQueue,
      workflowId: workflowIdFor(caseId),
      args: [input],
      ...complaintStartMetadata(input),
    });
    const handle = api.client.workflow.getHandle(workflowIdFor(caseId));
    const continued = await until('the continued run', async () => {
      const d = await handle.describe();
      return d.runId !== first.firstExecutionRunId ? d : undefined;
    });
    // What Temporal carries over: nothing of the user metadata (the continue-as-new command has none).
    expect(await continued.staticSummary()).toBeUndefined();
    const details = await until('the details of the continued run', async () => (await currentDetails(workflowIdFor(caseId))) || undefined);
    expect(details.split('\n\n')[0]).toBe(`Case ${caseId} · air · division 370102`);
    expect(details).toContain('**Status:** pending acceptance');
  });
});

describe('the other workflows in the Temporal UI', () => {
  test('when a reward, a report, a campaign and a backlog sweep are started over the API, then each workflow carries its summary', async () => {
    const caseId = await register('Oil on the canal');
    await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, (b) => b.status === 'pending_acceptance');
    const reward = await api.request('POST', '/v1/governance/rewards', { token: tokens.clerk, body: { caseId } });
    expect(reward.status).toBe(201);
    expect(await staticSummary(reward.body.workflowId)).toBe(`Reward for case ${caseId}`);

    const report = await api.request('POST', '/v1/reports', { token: tokens.analyst, body: { kind: 'monthly', period: '2026-03' } });
    expect(report.status).toBe(202);
    expect(await staticSummary(report.body.workflowId)).toBe('Monthly report 2026-03');

    const now = Date.now();
    const campaign = await api.request('POST', '/v1/governance/campaigns', {
      token: tokens.supervisor,
      body: {
        name: 'River discharge',
        criteria: { categories: ['water'], divisions: ['3701'] },
        period: { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 86_400_000).toISOString() },
      },
    });
    expect(campaign.status).toBe(201);
    expect(await staticSummary(campaign.body.workflowId)).toBe(`Campaign ${campaign.body.campaignId}: River discharge · water`);

    const sweep = await api.request('POST', '/v1/governance/backlog/sweeps', { token: tokens.supervisor, body: { kind: 'scan' } });
    expect(sweep.status).toBe(202);
    expect(await staticSummary(sweep.body.sweepId)).toMatch(/^Backlog scan of \d{4}-\d\d-\d\d$/);
  });

  test('when a complaint at a site feeds its warning watcher, then the watcher carries a summary of its kind, category and site', async () => {
    const siteId = `site-${randomBytes(4).toString('hex')}`;
    await register('Discharge at the dye works', { siteId, address: '1 Dye Works Road' });
    const summary = await until('the watcher', () => staticSummary(`warning-watcher:repeated:water:site:${siteId}`));
    expect(summary).toBe(`Warning watcher (repeated) · water · site ${siteId}`);
  });

  test('when the Schedules are created and one is triggered, then each action carries its summary and so does the run it starts', async () => {
    const prefix = `sum-${randomBytes(3).toString('hex')}`;
    const desired = [
      ...supervisionSchedules(secondsPolicy, api.taskQueue, prefix),
      ...reportSchedules(secondsPolicy, api.taskQueue, prefix),
      ...governanceSchedules(secondsPolicy, api.taskQueue, prefix),
    ];
    await syncSchedules(api.client, desired, 'test/workflow-summaries.test.ts');
    try {
      const seen: Record<string, string | undefined> = {};
      for (const { scheduleId } of desired) {
        const action = (await api.client.schedule.getHandle(scheduleId).describe()).action;
        seen[scheduleId.slice(prefix.length + 1)] = action.type === 'startWorkflow' ? action.staticSummary : undefined;
      }
      expect(seen).toEqual({
        'desk-check': 'Daily desk check of the cases closed the day before',
        're-inspection': 'Quarterly on-site re-inspection of the cases closed the quarter before',
        'report-monthly': 'Monthly report of the period just ended',
        'report-quarterly': 'Quarterly report of the period just ended',
        'backlog-scan': 'Backlog scan',
        'backlog-yearly-sort': 'Backlog yearly sort',
      });
      const scan = api.client.schedule.getHandle(`${prefix}-backlog-scan`);
      await scan.trigger();
      const run = await until('the triggered run', async () => (await scan.describe()).info.recentActions[0]?.action.workflow.workflowId);
      expect(await staticSummary(run)).toBe('Backlog scan');
    } finally {
      for (const { scheduleId } of desired) await api.client.schedule.getHandle(scheduleId).delete();
    }
  });
});
