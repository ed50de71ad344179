import { mintToken } from '../api/auth';
import { type Policy } from '../domain/policy';
import { parsePolicy } from '../domain/schemas/policy';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { acceptUpdate } from '../workflows/contracts/complaint';
import { campaignWorkflow } from '../workflows/campaign';
import { campaignProgressQuery, campaignWorkflowId, pauseCampaignSignal, resumeCampaignSignal } from '../workflows/contracts/campaign';
import { ComplaintHarness, DAY, clerk, eventAt, type ComplaintHandle } from './support/complaint-harness';
import { eventually, seedCase } from './support/governance-fixtures';

/**
 * A dust campaign on the time-skipping server, against real complaint workflows (tagging, tightened
 * deadlines) and a projection seeded with earlier complaints (the before/after comparison).
 */

const policy: Policy = parsePolicy({
  governance: {
    campaigns: {
      scanInterval: { amount: 1, unit: 'days' },
      tightenFactor: { default: 0.5, min: 0.25, max: 1 },
      minimumRemaining: { amount: 24, unit: 'hours' },
    },
  },
});
const criteria = { categories: ['dust' as const], divisions: ['3701'], keywords: ['construction'] };
const dust = {
  category: 'dust' as const,
  divisionCode: '370102',
  title: 'Dust from a construction site',
  description: 'Trucks leave the site uncovered.',
};

let h: ComplaintHarness;
let baseUrl: string;

beforeAll(async () => {
  h = await ComplaintHarness.create('campaign');
  baseUrl = await h.serveApi(() => policy);
});
afterAll(async () => {
  await h?.teardown();
});

async function call(method: string, path: string, principal: Record<string, unknown>, body?: unknown) {
  const token = await mintToken(DEVELOPMENT_JWT_SECRET, principal as never);
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}
const supervisor = { sub: 'sup-1', role: 'supervisor', divisions: ['37'] };

/** A complaint accepted by a unit (a handling deadline runs), projected. */
async function handled(overrides: Record<string, unknown>): Promise<ComplaintHandle> {
  const handle = await h.start({ ...overrides, location: {} });
  await h.waitFor(handle, (v) => v.status === 'pending_acceptance', 'pending acceptance');
  await handle.executeUpdate(acceptUpdate, { args: [{ actor: clerk, unitId: 'unit-1' }] });
  await projected(handle, 'handling');
  return handle;
}
const caseIdOf = (handle: ComplaintHandle) => handle.workflowId.replace(/^complaint-/, '');
const projected = (handle: ComplaintHandle, status: string) =>
  eventually(
    async () => (await h.db.pool.query(`SELECT status FROM cases WHERE case_id = $1`, [caseIdOf(handle)])).rows[0]?.status,
    (s) => s === status,
    `${handle.workflowId} projected as ${status}`,
  );
const tagged = async (campaignId: string) =>
  (await h.db.pool.query(`SELECT case_id, matched_as FROM campaign_cases WHERE campaign_id = $1 ORDER BY case_id`, [campaignId])).rows;

test('when a campaign runs, then it tags the matching open cases and the new ones, tightens their deadlines, stops while paused and catches up on resume, continues as new, and ends with the before/after comparison', async () => {
  const now = await h.env.currentTimeMs();
  const period = { from: now - 10 * DAY, to: now + 20 * DAY };
  // Before the period (30 days before it): three matching complaints and one of another category.
  for (const days of [25, 15, 5])
    await seedCase(h.db.pool, { ...dust, status: 'closed', receivedAt: period.from - days * DAY, closedAt: now - DAY });
  await seedCase(h.db.pool, {
    category: 'noise',
    divisionCode: '370102',
    title: 'construction noise',
    status: 'closed',
    receivedAt: period.from - 5 * DAY,
    closedAt: now - DAY,
  });
  // In the period, already closed (counted, not tagged).
  await seedCase(h.db.pool, { ...dust, status: 'closed', receivedAt: now - 5 * DAY, closedAt: now - DAY });

  const m1 = await handled(dust);
  const m2 = await handled({ ...dust, divisionCode: '370103', title: 'Construction dust at night' });
  const otherProblem = await handled({ category: 'noise', divisionCode: '370102', title: 'construction noise' });
  const otherCity = await handled({ ...dust, divisionCode: '370202' });
  const dueBefore = Date.parse((await h.waitFor(m1, (v) => v.status === 'handling')).deadline!.dueAt);

  const campaignId = 'CP-00000000c0de';
  const handle = await h.env.client.workflow.start(campaignWorkflow, {
    taskQueue: h.taskQueue,
    workflowId: campaignWorkflowId(campaignId),
    args: [
      {
        campaignId,
        definition: { name: 'Construction dust', criteria, period },
        policy: policy.governance.campaigns,
        calendar: policy.calendar,
        startedBy: { id: 'sup-1', role: 'supervisor' },
        tighten: { factor: 0.5, reason: 'dust campaign: handle within half the time' },
        continueAsNewAfterScans: 2,
      },
    ],
  });

  // The matching open cases are tagged; the other problem and the other city are not.
  const first = await eventually(
    () => tagged(campaignId),
    (r) => r.length === 2,
    'the open cases to be tagged',
  );
  expect(first).toEqual(
    [
      { case_id: caseIdOf(m1), matched_as: 'open' },
      { case_id: caseIdOf(m2), matched_as: 'open' },
    ].sort((a, b) => a.case_id.localeCompare(b.case_id)),
  );
  void otherProblem;
  void otherCity;

  // Their handling deadlines are halved (from acceptance), with the reason on their timelines.
  const tightened = await h.waitForEvent(m1, 'deadline_tightened');
  const acceptedAt = eventAt(tightened, 'accepted');
  expect(Date.parse(tightened.deadline!.dueAt)).toBe(acceptedAt + Math.round((dueBefore - acceptedAt) * 0.5));
  expect(tightened.timeline.find((e) => e.type === 'deadline_tightened')).toMatchObject({
    reason: 'dust campaign: handle within half the time',
    data: { campaignId, clock: 'handle', from: dueBefore },
  });
  await h.waitForEvent(m2, 'deadline_tightened');

  // Paused: a new matching complaint is not tagged, however long the pause.
  await handle.signal(pauseCampaignSignal, { actor: { id: 'sup-1', role: 'supervisor' }, reason: 'flood season' });
  // A scan already under way when the pause arrived still finishes; none starts after it.
  await eventually(
    () => handle.query(campaignProgressQuery),
    (p) => p.status === 'paused' && !p.scanning,
    'the campaign to pause',
  );
  const scansWhilePaused = (await handle.query(campaignProgressQuery)).scans;
  const m3 = await handled({ ...dust, title: 'New construction site raises dust' });
  await h.sleep(3 * DAY);
  expect((await handle.query(campaignProgressQuery)).scans).toBe(scansWhilePaused);
  expect(await tagged(campaignId)).toHaveLength(2);

  // Resumed: it catches up at once; the new case is tagged as new and tightened too.
  await handle.signal(resumeCampaignSignal, { actor: { id: 'sup-1', role: 'supervisor' } });
  const after = await eventually(
    () => tagged(campaignId),
    (r) => r.length === 3,
    'the new case to be tagged',
  );
  expect(after).toContainEqual({ case_id: caseIdOf(m3), matched_as: 'new' });
  await h.waitForEvent(m3, 'deadline_tightened');

  // The period ends: the comparison counts matching complaints in the 30 days of the period against the 30 before.
  const result = await handle.result();
  expect(result).toMatchObject({
    campaignId,
    before: { from: new Date(period.from - 30 * DAY).toISOString(), to: new Date(period.from).toISOString(), count: 3 },
    during: { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString(), count: 4 },
    change: 0.3333,
    tagged: 3,
    tightened: 3,
  });
  const progress = await handle.query(campaignProgressQuery);
  expect(progress.status).toBe('finished');
  expect(progress.runs).toBeGreaterThan(1); // continued as new, the state carried over
  const row = await h.db.pool.query(`SELECT status, tagged, result FROM campaigns WHERE campaign_id = $1`, [campaignId]);
  expect(row.rows[0]).toMatchObject({ status: 'finished', tagged: 3, result: { before: { count: 3 }, during: { count: 4 } } });

  // The result over the API, for analysts too.
  const api = await call('GET', `/v1/governance/campaigns/${campaignId}/result`, { sub: 'ana-1', role: 'analyst' });
  expect(api.status).toBe(200);
  expect(api.body).toMatchObject({ before: { count: 3 }, during: { count: 4 }, change: 0.3333 });
});

test('when campaigns are started over the API, then only a supervisor of its divisions may start one, the factor must be within the policy, and analysts read its progress but not its controls', async () => {
  const now = await h.env.currentTimeMs();
  const body = {
    name: 'Road dust',
    criteria,
    period: { from: new Date(now - DAY).toISOString(), to: new Date(now + 30 * DAY).toISOString() },
    tighten: { factor: 0.5, reason: 'campaign' },
  };
  expect((await call('POST', '/v1/governance/campaigns', { sub: 'ana-1', role: 'analyst' }, body)).status).toBe(403);
  expect((await call('POST', '/v1/governance/campaigns', { sub: 'sup-2', role: 'supervisor', divisions: ['44'] }, body)).status).toBe(403);
  const tooTight = await call('POST', '/v1/governance/campaigns', supervisor, { ...body, tighten: { factor: 0.1, reason: 'campaign' } });
  expect(tooTight.status).toBe(422);
  expect(tooTight.body.detail).toMatch(/0\.25 to 1/);

  const started = await call('POST', '/v1/governance/campaigns', supervisor, body);
  expect(started.status).toBe(201);
  const { campaignId } = started.body;
  const progress = await eventually(
    () => call('GET', `/v1/governance/campaigns/${campaignId}`, { sub: 'ana-1', role: 'analyst' }),
    (r) => r.status === 200 && r.body.scans >= 1,
    'the first scan',
  );
  expect(progress.body).toMatchObject({ campaignId, status: 'running', name: 'Road dust' });
  expect((await call('POST', `/v1/governance/campaigns/${campaignId}/pause`, { sub: 'ana-1', role: 'analyst' }, {})).status).toBe(403);
  expect((await call('GET', `/v1/governance/campaigns/${campaignId}/result`, supervisor)).status).toBe(409);
  const paused = await call('POST', `/v1/governance/campaigns/${campaignId}/pause`, supervisor, { reason: 'audit' });
  expect(paused.status).toBe(202);
  await eventually(
    () => call('GET', `/v1/governance/campaigns/${campaignId}`, supervisor),
    (r) => r.body.status === 'paused',
    'paused over the API',
  );
  await h.env.client.workflow.getHandle(campaignWorkflowId(campaignId)).terminate('test over');
});
