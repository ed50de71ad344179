import type { Principal } from '../api/auth';
import { ApiHarness } from './support/api-harness';

/**
 * A complaint's whole life over HTTP only, each step taken by the role allowed to take it, against
 * the real Temporal dev server and PostgreSQL. The dev server does not skip time, so only decisions
 * are walked here; the timers are the time-skipping workflow tests' business.
 */

let api: ApiHarness;
const tokens: Record<'clerk' | 'unit' | 'otherUnit' | 'supervisor' | 'inspector', string> = {} as never;
const principals: Record<keyof typeof tokens, Principal> = {
  clerk: { sub: 'clerk-li', role: 'clerk' },
  unit: { sub: 'licheng-bureau-user', role: 'unit', unitId: 'licheng-bureau' },
  otherUnit: { sub: 'tianqiao-bureau-user', role: 'unit', unitId: 'tianqiao-bureau' },
  supervisor: { sub: 'jinan-supervisor', role: 'supervisor', divisions: ['3701'] },
  inspector: { sub: 'inspector-zhao', role: 'inspector' },
};

beforeAll(async () => {
  api = await ApiHarness.create('api-life');
  for (const [name, principal] of Object.entries(principals)) tokens[name as keyof typeof tokens] = await api.token(principal);
});
afterAll(async () => {
  await api?.teardown();
});

/** No coordinates and no site: intake links nothing, so every case here is handled on its own. */
function complaint(title: string, extra: Record<string, unknown> = {}) {
  return {
    channel: 'hotline',
    category: 'water',
    divisionCode: '370112',
    title,
    description: 'Dark water discharged into the river behind the paper mill every night.',
    reporter: { anonymous: false, name: 'Wang Fang', phone: '13800000000', consentToShareWithUnit: false },
    ...extra,
  };
}

async function register(title: string, extra?: Record<string, unknown>): Promise<string> {
  const res = await api.request('POST', '/v1/complaints', { token: tokens.clerk, body: complaint(title, extra) });
  expect(res.status).toBe(201);
  return res.body.caseId;
}

/** Take one decision as `who`; the answer is the case after it. */
async function decide(who: keyof typeof tokens, caseId: string, decision: string, body: Record<string, unknown>) {
  const res = await api.request('POST', `/v1/complaints/${caseId}/${decision}`, { token: tokens[who], body });
  if (res.status !== 200) throw new Error(`${decision} by ${who}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The case as the clerk reads it over HTTP. */
async function read(caseId: string) {
  const res = await api.request('GET', `/v1/complaints/${caseId}`, { token: tokens.clerk });
  expect(res.status).toBe(200);
  return res.body;
}

describe('a complaint walked through its whole life over HTTP', () => {
  test('when each role takes its decisions in turn, then every step shows in the case read back over HTTP, to the final reopening', async () => {
    const caseId = await register('Paper mill discharge at night');
    expect((await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, (b) => b.status === 'pending_acceptance')).status).toBe(
      'pending_acceptance',
    );

    await decide('clerk', caseId, 'accept', { unitId: 'licheng-bureau', note: 'county bureau has jurisdiction' });
    expect(await read(caseId)).toMatchObject({ status: 'handling', unitId: 'licheng-bureau', deadline: { kind: 'handle' } });

    await decide('unit', caseId, 'extension-request', { amount: 10, reason: 'water samples need lab analysis' });
    expect(await read(caseId)).toMatchObject({ status: 'handling', pendingExtension: { amount: 10 } });

    await decide('supervisor', caseId, 'extension-decision', { decision: 'approved', reason: 'lab analysis takes two weeks' });
    const extended = await read(caseId);
    expect(extended).toMatchObject({ status: 'handling', extensionGranted: 10 });
    expect(extended.pendingExtension).toBeUndefined();

    await decide('unit', caseId, 'result', { summary: 'Outfall sealed', reply: 'The mill was ordered to stop discharging.' });
    expect(await read(caseId)).toMatchObject({ status: 'under_review' });

    await decide('clerk', caseId, 'review', { decision: 'returned', reason: 'the reply does not cite the sampling results' });
    expect(await read(caseId)).toMatchObject({ status: 'handling', returns: 1, deadline: { kind: 'rework' } });

    await decide('unit', caseId, 'result', { summary: 'Outfall sealed; COD 35 mg/L', reply: 'Samples attached; the mill is fined.' });
    expect(await read(caseId)).toMatchObject({ status: 'under_review' });

    await decide('clerk', caseId, 'review', { decision: 'approved' });
    expect(await read(caseId)).toMatchObject({ status: 'callback' });

    await decide('clerk', caseId, 'callback', { outcome: 'satisfied' });
    expect(await read(caseId)).toMatchObject({ status: 'closed', closure: 'resolved' });

    await decide('clerk', caseId, 'review-request', { reason: 'the discharge resumed a week later' });
    expect(await read(caseId)).toMatchObject({ status: 'review_requested', deadline: { kind: 'review' } });

    await decide('supervisor', caseId, 'review-decision', { decision: 'overturned', reason: 'the rectification did not hold' });
    expect(await read(caseId)).toMatchObject({ status: 'handling', reopenCount: 1 });

    await decide('unit', caseId, 'result', { summary: 'Pipe removed', reply: 'The illegal pipe was removed and the mill fined again.' });
    expect(await read(caseId)).toMatchObject({ status: 'under_review' });
    await decide('clerk', caseId, 'review', { decision: 'approved' });
    expect(await read(caseId)).toMatchObject({ status: 'callback' });
    await decide('clerk', caseId, 'callback', { outcome: 'basically_satisfied' });
    expect(await read(caseId)).toMatchObject({ status: 'closed', closure: 'resolved' });

    await decide('supervisor', caseId, 'escalation', { reason: 'repeated discharge by the same mill', level: 2 });
    expect(await read(caseId)).toMatchObject({ status: 'closed', escalationLevel: 2, escalation: 'city' });

    await decide('inspector', caseId, 'reopen', { reason: 'on-site re-inspection found a new outfall', source: 're_inspection' });
    const final = await read(caseId);
    expect(final).toMatchObject({ status: 'handling', reopenCount: 2, unitId: 'licheng-bureau' });

    // The timeline read over HTTP holds every decision, with the role that took it.
    const decisions = final.timeline
      .filter((e: { actor: { role: string } }) => e.actor.role !== 'system')
      .map((e: { type: string; actor: { role: string } }) => `${e.type}:${e.actor.role}`);
    expect(decisions).toEqual([
      'registered:clerk',
      'accepted:clerk',
      'extension_requested:unit',
      'extension_approved:supervisor',
      'result_submitted:unit',
      'result_returned:clerk',
      'result_submitted:unit',
      'result_approved:clerk',
      'callback_answered:clerk',
      'closed:clerk',
      'review_requested:clerk',
      'reopened:supervisor',
      'result_submitted:unit',
      'result_approved:clerk',
      'callback_answered:clerk',
      'closed:clerk',
      'escalated:supervisor',
      'reopened:inspector',
    ]);

    // The public feed shows the escalated, reopened case, without the reporter or any free text.
    const feed = await api.request('GET', '/v1/public/cases');
    expect(feed.status).toBe(200);
    const published = feed.body.items.find((i: { caseId: string }) => i.caseId === caseId);
    expect(published).toMatchObject({
      caseId,
      status: 'handling',
      escalation: 'city',
      reopened: 2,
      divisionCode: '370112',
      category: 'water',
    });
    const text = JSON.stringify(feed.body);
    for (const secret of ['Wang Fang', '13800000000', 'Paper mill', 'Dark water', 'sampling', 'Outfall'])
      expect(text).not.toContain(secret);
  });

  test('when key information is missing, then the clerk supplements it and the case goes up for acceptance', async () => {
    const caseId = await register('Odour near the market', { missing: ['location'] });
    await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, (b) => b.status === 'awaiting_supplement');

    await decide('clerk', caseId, 'supplement', { location: { address: 'East gate of the farmers market' }, note: 'called back' });
    const after = await read(caseId);
    expect(after.status).toBe('pending_acceptance');
    expect(after.timeline.map((e: { type: string }) => e.type)).toContain('supplemented');
  });

  test('when a case is outside the scope, then the clerk forwards it and it is closed as forwarded', async () => {
    const caseId = await register('Unpaid wages at the construction site');
    await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, (b) => b.status === 'pending_acceptance');

    await decide('clerk', caseId, 'forward', { competentBody: 'Labour inspection bureau', reason: 'a labour dispute, not pollution' });
    expect(await read(caseId)).toMatchObject({ status: 'archived', closure: 'forwarded' });
  });

  test('when a supervisor transfers a case, then the new unit sees and handles it and the old unit no longer sees it', async () => {
    const caseId = await register('Noise from the quarry');
    await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, (b) => b.status === 'pending_acceptance');
    await decide('clerk', caseId, 'accept', { unitId: 'licheng-bureau' });

    await decide('supervisor', caseId, 'transfer', { unitId: 'tianqiao-bureau', reason: 'the quarry lies in Tianqiao district' });
    expect(await read(caseId)).toMatchObject({ status: 'handling', unitId: 'tianqiao-bureau' });

    const asOld = await api.request('GET', `/v1/complaints/${caseId}`, { token: tokens.unit });
    expect(asOld.status).toBe(404);
    const asNew = await api.request('GET', `/v1/complaints/${caseId}`, { token: tokens.otherUnit });
    expect(asNew.status).toBe(200);
    // Without the reporter's consent, the unit does not see who complained.
    expect(asNew.body.reporter).toBeUndefined();
    await decide('otherUnit', caseId, 'result', { summary: 'Blasting hours limited', reply: 'Blasting only 8:00-18:00 from now on.' });
    expect(await read(caseId)).toMatchObject({ status: 'under_review' });
  });

  test('when the public feed is read without a token, then it lists the key cases only, without personal data or free text', async () => {
    const feed = await api.request('GET', '/v1/public/cases?division=3701&category=water');
    expect(feed.status).toBe(200);
    // Of this file's cases only the escalated and reopened one is a key case.
    expect(feed.body.total).toBe(1);
    const [item] = feed.body.items;
    expect(Object.keys(item).sort()).toEqual(
      [
        'acceptedAt',
        'caseId',
        'category',
        'closedAt',
        'deadline',
        'divisionCode',
        'escalation',
        'handlingUnit',
        'outcome',
        'receivedAt',
        'reopened',
        'status',
        'updatedAt',
        'urgency',
      ].sort(),
    );
    expect(feed.headers.get('ratelimit-policy')).toMatch(/q=\d+/);
    expect((await api.request('GET', '/v1/public/cases?division=44')).body.total).toBe(0);
  });

  test('when cases are listed, then the filters and the paging select them and a unit sees its own only', async () => {
    const list = (query: string, token = tokens.clerk) => api.request('GET', `/v1/complaints?${query}`, { token });
    const byCategory = await list('category=water&division=3701&pageSize=2&page=1');
    expect(byCategory.status).toBe(200);
    expect(byCategory.body.items).toHaveLength(2);
    expect(byCategory.body.total).toBeGreaterThanOrEqual(4);
    const secondPage = await list('category=water&division=3701&pageSize=2&page=2');
    expect(secondPage.body.items.map((i: { caseId: string }) => i.caseId)).not.toContain(byCategory.body.items[0].caseId);

    const forwarded = await list('status=archived&q=wages');
    expect(forwarded.body.items.map((i: { title: string }) => i.title)).toEqual(['Unpaid wages at the construction site']);

    const future = await list(`from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    expect(future.body.total).toBe(0);

    const asUnit = await list('', tokens.otherUnit);
    expect(asUnit.body.items.map((i: { unitId: string }) => i.unitId)).toEqual(['tianqiao-bureau']);
    expect((await list('unit=licheng-bureau', tokens.otherUnit)).status).toBe(403);
  });
});
