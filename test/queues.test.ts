import type { Principal } from '../api/auth';
import { projectRewardPayments } from '../db/rewards';
import { ApiHarness } from './support/api-harness';

/**
 * Each role's inbox and the decisions that send a case back (a unit declines it; a supervisor
 * unlinks a wrong duplicate), over HTTP with each role's token, against the real Temporal dev
 * server and PostgreSQL.
 */

let api: ApiHarness;
const principals = {
  clerk: { sub: 'clerk-qiu', role: 'clerk' },
  unit: { sub: 'wang-of-licheng', role: 'unit', unitId: 'licheng-bureau' },
  otherUnit: { sub: 'zhou-of-tianqiao', role: 'unit', unitId: 'tianqiao-bureau' },
  supervisor: { sub: 'jinan-supervisor', role: 'supervisor', divisions: ['3701'] },
  otherSupervisor: { sub: 'qingdao-supervisor', role: 'supervisor', divisions: ['3702'] },
  colleague: { sub: 'licheng-supervisor', role: 'supervisor', divisions: ['370112'] },
  inspector: { sub: 'inspector-zhao', role: 'inspector' },
} satisfies Record<string, Principal>;
type Who = keyof typeof principals;
const tokens = {} as Record<Who, string>;

beforeAll(async () => {
  api = await ApiHarness.create('queues');
  for (const who of Object.keys(principals) as Who[]) tokens[who] = await api.token(principals[who]);
});
afterAll(async () => {
  await api?.teardown();
});

async function as(who: Who, method: string, path: string, body?: unknown) {
  return api.request(method, path, { token: tokens[who], body });
}

/** Registered by the clerk and put up for acceptance; no location unless given, so intake links nothing. */
async function register(title: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await as('clerk', 'POST', '/v1/complaints', {
    channel: 'hotline',
    category: 'water',
    divisionCode: '370112',
    title,
    description: 'Dark water in the river behind the mill.',
    reporter: { anonymous: false, name: 'Wang Fang', phone: '13800000000' },
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body.caseId;
}

async function decide(who: Who, caseId: string, decision: string, body: Record<string, unknown>) {
  const res = await as(who, 'POST', `/v1/complaints/${caseId}/${decision}`, body);
  if (res.status !== 200) throw new Error(`${decision} by ${who}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const statusIs = (status: string) => (b: { status: string }) => b.status === status;

async function queue(who: Who, role: string) {
  const res = await as(who, 'GET', `/v1/queues/${role}?pageSize=200`);
  expect(res.status).toBe(200);
  return res.body;
}

describe("a unit's inbox", () => {
  test('when cases are assigned with different deadlines, then the inbox lists them nearest deadline first, and only its own', async () => {
    const normal1 = await register('Mill outfall, first');
    const urgent = await register('Chemical spill', { urgency: 'urgent', category: 'water' });
    const normal2 = await register('Mill outfall, second');
    const elsewhere = await register('Another unit’s case');
    for (const id of [normal1, urgent, normal2, elsewhere]) {
      await api.eventually(`/v1/complaints/${id}`, tokens.clerk, statusIs('pending_acceptance'));
    }
    // Accepted in this order: normal2 first (its 60 days end first), then normal1; the urgent case last, due in 24 hours.
    await decide('clerk', normal2, 'accept', { unitId: 'licheng-bureau' });
    await decide('clerk', normal1, 'accept', { unitId: 'licheng-bureau' });
    await decide('clerk', urgent, 'accept', { unitId: 'licheng-bureau' });
    await decide('clerk', elsewhere, 'accept', { unitId: 'tianqiao-bureau' });

    const inbox = await queue('unit', 'unit');
    const mine = inbox.items.filter((i: { caseId: string }) => [normal1, urgent, normal2].includes(i.caseId));
    expect(mine.map((i: { caseId: string }) => i.caseId)).toEqual([urgent, normal2, normal1]);
    const due = inbox.items.map((i: { dueAt: string }) => Date.parse(i.dueAt));
    expect(due).toEqual([...due].sort((a, b) => a - b));
    expect(inbox.items.map((i: { caseId: string }) => i.caseId)).not.toContain(elsewhere);
    expect(inbox.items[0]).toMatchObject({
      kind: 'handle',
      caseId: urgent,
      awaits: { operationId: 'submitResult', method: 'POST', href: `/v1/complaints/${urgent}/result` },
    });
    expect(inbox.counts.handle).toBe(inbox.total);
    expect(inbox.total).toBeGreaterThanOrEqual(3);
    // Other roles have no business in a unit's inbox.
    expect((await as('clerk', 'GET', '/v1/queues/unit')).status).toBe(403);
  });
});

describe("a supervisor's inbox", () => {
  test('when a unit asks for an extension, then the supervisor of the division sees it, and loses it once decided', async () => {
    const caseId = await register('Paper mill, extension');
    await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, statusIs('pending_acceptance'));
    await decide('clerk', caseId, 'accept', { unitId: 'licheng-bureau' });
    const extensionItems = (q: { items: Array<{ kind: string; caseId: string }> }) =>
      q.items.filter((i) => i.kind === 'extension_request' && i.caseId === caseId);
    expect(extensionItems(await queue('supervisor', 'supervisor'))).toEqual([]);

    await decide('unit', caseId, 'extension-request', { amount: 10, reason: 'lab analysis' });
    const waiting = await queue('supervisor', 'supervisor');
    expect(extensionItems(waiting)).toEqual([
      expect.objectContaining({
        awaits: { operationId: 'decideExtension', method: 'POST', href: `/v1/complaints/${caseId}/extension-decision` },
      }),
    ]);
    expect(waiting.counts.extension_request).toBeGreaterThanOrEqual(1);
    expect(waiting.overdueByLevel).toBeDefined();
    // A supervisor of other divisions does not see it.
    expect(extensionItems(await queue('otherSupervisor', 'supervisor'))).toEqual([]);

    await decide('supervisor', caseId, 'extension-decision', { decision: 'approved', reason: 'two weeks of lab work' });
    const after = await queue('supervisor', 'supervisor');
    expect(extensionItems(after)).toEqual([]);
    expect(after.counts.extension_request ?? 0).toBe((waiting.counts.extension_request as number) - 1);
  });
});

describe("reward approvals in a supervisor's inbox", () => {
  test('when a reward payment awaits approval, then the supervisors of the division see it (not whoever made its finding, not other divisions), and lose it once approved', async () => {
    const approvals = (q: { items: Array<{ kind: string; caseId: string }> }, caseId: string) =>
      q.items.filter((i) => i.kind === 'reward_approval' && i.caseId === caseId);
    const opened = async (title: string) => {
      const caseId = await register(title);
      await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, statusIs('pending_acceptance'));
      expect((await as('clerk', 'POST', '/v1/governance/rewards', { caseId })).status).toBe(201);
      return caseId;
    };
    // The inspector's finding calls for the instant reward; the finding answers once the payment is in the read model.
    const byInspector = await opened('Tannery, night discharge');
    const checked = await as('inspector', 'POST', `/v1/governance/rewards/${byInspector}/preliminary-check`, { passed: true });
    expect(checked.status).toBe(200);
    expect(checked.body.payments).toEqual([expect.objectContaining({ seq: 1, status: 'awaiting_approval' })]);
    // The supervisor's own finding: the supervisor may not approve its payment, a colleague of the division may.
    const bySupervisor = await opened('Tannery, day discharge');
    const own = await as('supervisor', 'POST', `/v1/governance/rewards/${bySupervisor}/preliminary-check`, { passed: true });
    expect(own.status).toBe(200);

    const waiting = await queue('supervisor', 'supervisor');
    expect(approvals(waiting, byInspector)).toEqual([
      expect.objectContaining({
        kind: 'reward_approval',
        dueAt: null,
        divisionCode: '370112',
        paymentSeq: 1,
        awaits: { operationId: 'approveRewardPayment', method: 'POST', href: `/v1/governance/rewards/${byInspector}/payments/1/approval` },
      }),
    ]);
    expect(approvals(waiting, bySupervisor)).toEqual([]);
    expect(waiting.counts.reward_approval).toBe(1);
    const colleague = await queue('colleague', 'supervisor');
    expect(approvals(colleague, bySupervisor)).toEqual([expect.objectContaining({ paymentSeq: 1 })]);
    expect(colleague.counts.reward_approval).toBe(2);
    const elsewhere = await queue('otherSupervisor', 'supervisor');
    expect([...approvals(elsewhere, byInspector), ...approvals(elsewhere, bySupervisor)]).toEqual([]);
    expect(elsewhere.counts.reward_approval).toBeUndefined();

    // Approved through the API: gone from the inbox when the approval answers.
    const approved = await as('supervisor', 'POST', `/v1/governance/rewards/${byInspector}/payments/1/approval`, { decision: 'approved' });
    expect(approved.status).toBe(200);
    const after = await queue('supervisor', 'supervisor');
    expect(approvals(after, byInspector)).toEqual([]);
    expect(after.counts.reward_approval).toBeUndefined();
    expect((await queue('colleague', 'supervisor')).counts.reward_approval).toBe(1);

    // Paid, the read model says so; a late projection of an earlier status (a retry) changes nothing.
    await api.eventually(`/v1/governance/rewards/${byInspector}`, tokens.clerk, (b) => b.payments[0].status === 'paid');
    const row = async () =>
      (
        await api.db.pool.query(`SELECT status, requested_by, decided_by, updated_at FROM reward_payments WHERE case_id = $1`, [
          byInspector,
        ])
      ).rows;
    const paid = await row();
    expect(paid).toEqual([
      { status: 'paid', requested_by: 'inspector-zhao', decided_by: 'jinan-supervisor', updated_at: expect.any(Date) },
    ]);
    const requested = checked.body.payments[0];
    await projectRewardPayments(api.db.pool, byInspector, [
      { ...requested, requestedAt: Date.parse(requested.requestedAt), status: 'awaiting_approval', decidedBy: undefined },
    ]);
    expect(await row()).toEqual(paid);
    expect(approvals(await queue('supervisor', 'supervisor'), byInspector)).toEqual([]);
  });
});

describe('a declined assignment', () => {
  test('when the unit declines a case that is not its own, then it returns to the clerk for reassignment, recorded under the person with the unit', async () => {
    const caseId = await register('Wrong county');
    await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, statusIs('pending_acceptance'));
    await decide('clerk', caseId, 'accept', { unitId: 'licheng-bureau' });
    // Another unit may not decline it: the case is out of its scope.
    expect((await as('otherUnit', 'POST', `/v1/complaints/${caseId}/decline`, { reason: 'not ours' })).status).toBe(404);

    const view = await decide('unit', caseId, 'decline', { reason: 'the site is in Tianqiao district' });
    expect(view).toMatchObject({ status: 'pending_acceptance', deadline: { kind: 'accept' } });
    expect(view.unitId).toBeUndefined();
    // The unit no longer sees it; the clerk finds it in the inbox as a declined assignment.
    expect((await as('unit', 'GET', `/v1/complaints/${caseId}`)).status).toBe(404);
    expect((await queue('unit', 'unit')).items.map((i: { caseId: string }) => i.caseId)).not.toContain(caseId);
    const clerkInbox = await queue('clerk', 'clerk');
    expect(clerkInbox.items.find((i: { caseId: string }) => i.caseId === caseId)).toMatchObject({
      kind: 'declined_assignment',
      awaits: { operationId: 'acceptComplaint', href: `/v1/complaints/${caseId}/accept` },
    });
    expect(clerkInbox.counts.declined_assignment).toBeGreaterThanOrEqual(1);

    const read = await as('clerk', 'GET', `/v1/complaints/${caseId}`);
    const declined = read.body.timeline.find((e: { type: string }) => e.type === 'assignment_declined');
    expect(declined).toMatchObject({
      actor: { id: 'wang-of-licheng', role: 'unit', unitId: 'licheng-bureau' },
      reason: 'the site is in Tianqiao district',
      data: { unitId: 'licheng-bureau', counting: 'from_receipt' },
    });
    // The declined acceptance is no acceptance in the timely-acceptance rate.
    const facts = await api.db.pool.query(`SELECT seq FROM case_rate_facts WHERE case_id = $1 AND kind = 'acceptance'`, [caseId]);
    expect(facts.rows).toEqual([]);

    // The clerk assigns it again; the right unit handles it.
    await decide('clerk', caseId, 'accept', { unitId: 'tianqiao-bureau' });
    expect((await queue('otherUnit', 'unit')).items.map((i: { caseId: string }) => i.caseId)).toContain(caseId);
    const again = await api.db.pool.query(`SELECT seq FROM case_rate_facts WHERE case_id = $1 AND kind = 'acceptance'`, [caseId]);
    expect(again.rows).toHaveLength(1);
  });
});

describe('an unlinked duplicate', () => {
  test('when a supervisor unlinks a wrong automatic duplicate, then it is a case of its own again and the other case drops it', async () => {
    const location = { lat: 36.7012, lon: 117.0503, address: 'East gate of the dye works' };
    const primary = await register('Dye works, red water', { location });
    await api.eventually(`/v1/complaints/${primary}`, tokens.clerk, statusIs('pending_acceptance'));
    // 100 m away, the same category: linked to the open case automatically.
    const dup = await register('Red water near the bridge', { location: { lat: 36.7021, lon: 117.0503 } });
    const merged = await api.eventually(`/v1/complaints/${dup}`, tokens.clerk, (b) => b.closure === 'duplicate');
    expect(merged).toMatchObject({ status: 'archived', mergedInto: primary });
    await api.eventually(`/v1/complaints/${primary}`, tokens.clerk, (b) => b.linkedCases.includes(dup));

    // Only a supervisor, of the case's division; a case that is no duplicate is refused.
    expect((await as('clerk', 'POST', `/v1/complaints/${dup}/unlink`, { reason: 'another outfall' })).status).toBe(403);
    expect((await as('otherSupervisor', 'POST', `/v1/complaints/${dup}/unlink`, { reason: 'another outfall' })).status).toBe(404);
    expect((await as('supervisor', 'POST', `/v1/complaints/${primary}/unlink`, { reason: 'another outfall' })).status).toBe(409);

    const res = await as('supervisor', 'POST', `/v1/complaints/${dup}/unlink`, { reason: 'a different outfall, upstream' });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/complaints/${dup}`);
    const own = await api.eventually(`/v1/complaints/${dup}`, tokens.clerk, statusIs('pending_acceptance'));
    expect(own.mergedInto).toBeUndefined();
    expect(own.closure).toBeUndefined();
    expect(own.deadline).toMatchObject({ kind: 'accept' });
    expect(own.timeline.find((e: { type: string }) => e.type === 'duplicate_unlinked')).toMatchObject({
      actor: { id: 'jinan-supervisor', role: 'supervisor' },
      reason: 'a different outfall, upstream',
      data: { from: primary },
    });
    const other = await api.eventually(`/v1/complaints/${primary}`, tokens.clerk, (b) => !b.linkedCases.includes(dup));
    expect(other.timeline.map((e: { type: string }) => e.type)).toContain('duplicate_unlinked');
    // Unlinked once: again is a conflict.
    expect((await as('supervisor', 'POST', `/v1/complaints/${dup}/unlink`, { reason: 'again' })).status).toBe(409);
    // The new run is started lean (domain/case.ts, LEAN_START): it asks no patch, so its history has no patch marker.
    const run = await api.client.workflow.getHandle(`complaint-${dup}`).fetchHistory();
    expect((run.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toEqual([]);

    // It continues its own lifecycle: the clerk finds it to accept, and accepts it.
    expect((await queue('clerk', 'clerk')).items.map((i: { caseId: string }) => i.caseId)).toContain(dup);
    const accepted = await decide('clerk', dup, 'accept', { unitId: 'licheng-bureau' });
    expect(accepted).toMatchObject({ status: 'handling', unitId: 'licheng-bureau' });
  });
});

describe("an inspector's and a clerk's inbox", () => {
  test('when read, then each answers its own kinds with counts and a total, and refuses other roles', async () => {
    const inspector = await queue('inspector', 'inspector');
    expect(inspector).toMatchObject({ role: 'inspector', total: 0, counts: {}, items: [] });
    const clerk = await queue('clerk', 'clerk');
    expect(clerk.total).toBe(Object.values(clerk.counts as Record<string, number>).reduce((a, b) => a + b, 0));
    expect((await as('unit', 'GET', '/v1/queues/inspector')).status).toBe(403);
    expect((await as('inspector', 'GET', '/v1/queues/supervisor')).status).toBe(403);
  });
});
