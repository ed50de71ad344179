import { DEVELOPMENT_OPEN311_API_KEY } from '../runtime/config';
import { ApiHarness } from './support/api-harness';

/**
 * The directories (docs/directories.md): division codes from the GB/T 2260 package at every edge,
 * and handling units as records that admin manages, that cases go to and that unit tokens name.
 */

let api: ApiHarness;
let clerk: string;
let admin: string;
beforeAll(async () => {
  api = await ApiHarness.create('directories');
  clerk = await api.token({ sub: 'clerk-dir', role: 'clerk' });
  admin = await api.token({ sub: 'admin-dir', role: 'admin' });
});
afterAll(async () => {
  await api?.teardown();
});

const complaint = (divisionCode: string, title = 'Dust from an open stockpile') => ({
  channel: 'web',
  category: 'dust',
  divisionCode,
  title,
  description: 'Coal dust blows over the houses whenever the wind turns north.',
  reporter: { anonymous: true },
});

/** What a refused request must leave untouched: the case numbers, the Open311 tokens, the units and their events. */
async function recordCounts(): Promise<Record<string, string>> {
  const q = async (sql: string) => (await api.db.pool.query<{ v: string }>(sql)).rows[0].v;
  return {
    numbers: await q(`SELECT last_value::text || '/' || is_called::text AS v FROM case_number_seq`),
    cases: await q(`SELECT count(*)::text AS v FROM cases`),
    tokens: await q(`SELECT count(*)::text AS v FROM open311_tokens`),
    units: await q(`SELECT count(*)::text || '/' || count(*) FILTER (WHERE active)::text AS v FROM units`),
    unitEvents: await q(`SELECT count(*)::text AS v FROM unit_events`),
  };
}

async function registered(divisionCode: string, title?: string): Promise<string> {
  const created = await api.request('POST', '/v1/complaints', { token: clerk, body: complaint(divisionCode, title) });
  expect(created.status).toBe(201);
  const { caseId } = created.body;
  await api.eventually(`/v1/complaints/${caseId}`, clerk, (b) => b.status === 'pending_acceptance');
  return caseId;
}

async function createUnit(body: Record<string, unknown>) {
  return api.request('POST', '/v1/units', { token: admin, body: { notify: { channel: 'platform' }, ...body } });
}

describe('the division directory at the edges', () => {
  test('when a complaint names 000000 or a code the directory does not have, then 400 naming divisionCode, and no number is consumed', async () => {
    const before = await recordCounts();
    for (const code of ['000000', '370199', '379900', '990102']) {
      const res = await api.request('POST', '/v1/complaints', { token: clerk, body: complaint(code) });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.errors).toEqual([
        expect.objectContaining({ in: 'body', path: 'divisionCode', message: expect.stringMatching(/directory/) }),
      ]);
    }
    expect(await recordCounts()).toEqual(before);
  });

  test('when an Open311 request names an unknown jurisdiction_id, then 400 with an Open311 error list, and no token or case', async () => {
    const before = await recordCounts();
    const form = {
      api_key: DEVELOPMENT_OPEN311_API_KEY,
      service_code: 'noise',
      lat: '36.61',
      long: '117.01',
      'attribute[noise_source]': 'construction',
      'attribute[time_of_day]': 'night',
      description: 'Pile driving every night after 23:00.',
    };
    for (const jurisdiction of ['000000', '370199']) {
      const res = await api.request('POST', '/open311/v2/requests.json', {
        body: new URLSearchParams({ ...form, jurisdiction_id: jurisdiction }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual([{ code: '400', description: expect.stringMatching(/^jurisdiction_id: .*directory/) }]);
    }
    const listed = await api.request('GET', '/open311/v2/requests.json?jurisdiction_id=000000');
    expect(listed.status).toBe(400);
    expect(listed.body).toEqual([{ code: '400', description: expect.stringMatching(/^jurisdiction_id: /) }]);
    expect(await recordCounts()).toEqual(before);
  });

  test("when a supervisor's token, a listing filter or an inspector's scope names no division, then it is refused", async () => {
    const stray = await api.token({ sub: 'sup-x', role: 'supervisor', divisions: ['99'] });
    const res = await api.request('GET', '/v1/complaints', { token: stray });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/no division in the directory: 99/);
    const city = await api.token({ sub: 'sup-jn', role: 'supervisor', divisions: ['3701'] });
    expect((await api.request('GET', '/v1/complaints', { token: city })).status).toBe(200);

    const filtered = await api.request('GET', '/v1/complaints?division=3799', { token: clerk });
    expect(filtered.status).toBe(400);
    expect(filtered.body.errors).toEqual([expect.objectContaining({ in: 'query', path: 'division' })]);

    const inspector = await api.request('POST', '/v1/supervision/inspectors/insp-dir', { token: admin, body: { divisionCode: '00' } });
    expect(inspector.status).toBe(400);
    expect(inspector.body.errors).toEqual([expect.objectContaining({ in: 'body', path: 'divisionCode' })]);
  });
});

describe('the unit directory', () => {
  test('when admin creates, renames and deactivates a unit, then each change is an audited event readable through the API', async () => {
    const created = await createUnit({
      unitId: 'bureau-audit',
      name: '历下区生态环境分局',
      divisionCode: '370102',
      parentUnitId: 'bureau-370100',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/units/bureau-audit');
    expect(created.body).toMatchObject({
      unitId: 'bureau-audit',
      divisionCode: '370102',
      divisionName: '济南市历下区',
      active: true,
      parentUnitId: 'bureau-370100',
    });

    const renamed = await api.request('POST', '/v1/units/bureau-audit/rename', {
      token: admin,
      body: { name: '济南市生态环境局历下分局' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('济南市生态环境局历下分局');
    const deactivated = await api.request('POST', '/v1/units/bureau-audit/deactivate', {
      token: admin,
      body: { reason: 'Merged into the city bureau' },
    });
    expect(deactivated.status).toBe(200);
    expect(deactivated.body.active).toBe(false);
    const again = await api.request('POST', '/v1/units/bureau-audit/deactivate', { token: admin, body: { reason: 'twice' } });
    expect(again.status).toBe(409);

    const events = await api.request('GET', '/v1/units/bureau-audit/events', { token: admin });
    expect(events.status).toBe(200);
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual(['created', 'renamed', 'deactivated']);
    expect(events.body.items[1]).toMatchObject({
      actor: { id: 'admin-dir', role: 'admin' },
      data: { from: '历下区生态环境分局', to: '济南市生态环境局历下分局' },
    });
    expect(events.body.items[2].data).toMatchObject({ reason: 'Merged into the city bureau', unit: { active: false } });

    const listed = await api.request('GET', '/v1/units?division=370102&active=false', { token: clerk });
    expect(listed.body.items.map((u: { unitId: string }) => u.unitId)).toEqual(['bureau-audit']);
  });

  test('when a unit names an unknown division or parent, or its id is taken, then it is refused and nothing is recorded', async () => {
    const before = await recordCounts();
    const badDivision = await createUnit({ unitId: 'bureau-nowhere', name: 'Nowhere', divisionCode: '000000' });
    expect(badDivision.status).toBe(400);
    expect(badDivision.body.errors).toEqual([expect.objectContaining({ path: 'divisionCode' })]);
    expect(
      (await createUnit({ unitId: 'bureau-orphan', name: 'Orphan', divisionCode: '370102', parentUnitId: 'no-such-unit' })).status,
    ).toBe(422);
    expect((await createUnit({ unitId: 'bureau-370102', name: 'Twice', divisionCode: '370102' })).status).toBe(409);
    expect(await recordCounts()).toEqual(before);
  });

  test('when a role other than admin changes the directory, then 403 and nothing changes', async () => {
    const before = await recordCounts();
    for (const role of ['clerk', 'supervisor', 'ops', 'analyst'] as const) {
      const token = await api.token({ sub: `${role}-x`, role, ...(role === 'supervisor' && { divisions: ['37'] }) });
      expect(
        (await api.request('POST', '/v1/units', { token, body: { unitId: 'by-' + role, name: 'x', divisionCode: '370102' } })).status,
      ).toBe(403);
      expect((await api.request('POST', '/v1/units/bureau-370102/rename', { token, body: { name: 'x' } })).status).toBe(403);
      expect((await api.request('POST', '/v1/units/bureau-370102/deactivate', { token, body: { reason: 'x' } })).status).toBe(403);
    }
    const unit = await api.token({ sub: 'u', role: 'unit', unitId: 'bureau-370102' });
    expect((await api.request('POST', '/v1/units/bureau-370102/rename', { token: unit, body: { name: 'Mine now' } })).status).toBe(403);
    expect(await recordCounts()).toEqual(before);
  });

  test('when a unit token names no unit, or an inactive one, then 403', async () => {
    const ghost = await api.token({ sub: 'ghost', role: 'unit', unitId: 'unit-0' });
    const res = await api.request('GET', '/v1/complaints', { token: ghost });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/names no unit/);
    // The letter O for a zero, as the hostile client tried.
    const lookalike = await api.token({ sub: 'ghost', role: 'unit', unitId: 'bureau-37O102' });
    expect((await api.request('GET', '/v1/complaints', { token: lookalike })).status).toBe(403);
    const real = await api.token({ sub: 'real', role: 'unit', unitId: 'bureau-370102' });
    expect((await api.request('GET', '/v1/complaints', { token: real })).status).toBe(200);
  });

  test('when a case is accepted by an unknown, outside or inactive unit, then refused with the reason; a deactivated unit’s open cases are listed for reassignment', async () => {
    expect((await createUnit({ unitId: 'bureau-dir-shizhong', name: '市中区生态环境局', divisionCode: '370103' })).status).toBe(201);
    expect((await createUnit({ unitId: 'bureau-dir-lixia', name: '历下区生态环境局', divisionCode: '370102' })).status).toBe(201);
    expect((await createUnit({ unitId: 'bureau-dir-closed', name: '已撤销', divisionCode: '370102' })).status).toBe(201);
    expect((await api.request('POST', '/v1/units/bureau-dir-closed/deactivate', { token: admin, body: { reason: 'closed' } })).status).toBe(
      200,
    );
    const caseId = await registered('370102');
    const accept = (unitId: string) => api.request('POST', `/v1/complaints/${caseId}/accept`, { token: clerk, body: { unitId } });
    const timeline = async () =>
      (await api.db.pool.query(`SELECT count(*)::int AS n FROM case_events WHERE case_id = $1`, [caseId])).rows[0].n;
    const eventsBefore = await timeline();

    const unknown = await accept('bureau-nowhere');
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ reason: 'unknown_unit', detail: expect.stringMatching(/no unit 'bureau-nowhere'/) });
    const outside = await accept('bureau-dir-shizhong');
    expect(outside.status).toBe(422);
    expect(outside.body).toMatchObject({ reason: 'outside_division', detail: expect.stringMatching(/370103.*370102/) });
    const inactive = await accept('bureau-dir-closed');
    expect(inactive.status).toBe(409);
    expect(inactive.body.reason).toBe('inactive_unit');
    expect(await timeline()).toBe(eventsBefore);
    expect((await api.request('GET', `/v1/complaints/${caseId}`, { token: clerk })).body.status).toBe('pending_acceptance');

    // The county bureau takes it; a unit of the city may take it too, by transfer.
    const accepted = await accept('bureau-dir-lixia');
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'handling', unitId: 'bureau-dir-lixia' });
    await api.eventually(`/v1/complaints/${caseId}`, clerk, (b) => b.unitId === 'bureau-dir-lixia');

    // Deactivated: its token is refused and its open case is listed for reassignment.
    expect(
      (await api.request('POST', '/v1/units/bureau-dir-lixia/deactivate', { token: admin, body: { reason: 'Reorganised' } })).status,
    ).toBe(200);
    const lixiaToken = await api.token({ sub: 'lixia-officer', role: 'unit', unitId: 'bureau-dir-lixia' });
    expect((await api.request('GET', `/v1/complaints/${caseId}`, { token: lixiaToken })).status).toBe(403);
    const open = await api.request('GET', '/v1/units/bureau-dir-lixia/open-cases', { token: admin });
    expect(open.status).toBe(200);
    expect(open.body.items.map((c: { caseId: string }) => c.caseId)).toEqual([caseId]);

    const transferOutside = await api.request('POST', `/v1/complaints/${caseId}/transfer`, {
      token: clerk,
      body: { unitId: 'bureau-dir-shizhong', reason: 'the neighbouring district' },
    });
    expect(transferOutside.status).toBe(422);
    expect(transferOutside.body.reason).toBe('outside_division');
    const transferred = await api.request('POST', `/v1/complaints/${caseId}/transfer`, {
      token: clerk,
      body: { unitId: 'bureau-370100', reason: 'The district bureau was reorganised' },
    });
    expect(transferred.status).toBe(200);
    expect(transferred.body.unitId).toBe('bureau-370100');
    await api.eventually(
      '/v1/units/bureau-dir-lixia/open-cases',
      admin,
      (b) => b.items.length === 0,
      'the open case to leave the deactivated unit',
    );
  });
});
