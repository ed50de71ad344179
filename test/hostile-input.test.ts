import { Client } from '@temporalio/client';
import type { ComplaintInput } from '../domain/case';
import { parsePolicy } from '../domain/schemas/policy';
import { ApiHarness } from './support/api-harness';
import { startInProcessApi, type InProcessApi } from './support/api';
import { encodeForm, hostileInputs, validComplaint, validOpen311 } from './support/hostile-inputs';
import { testDataConverter } from './support/temporal';

/**
 * Nothing invalid enters the record (issue 12): every hostile registration of the table
 * (test/support/hostile-inputs.ts) is refused through the JSON API and through Open311 with a 4xx
 * that changes nothing; `receivedAt` is bounded by the policy; the location's address reaches the
 * unit sent to the site; and every case number drawn is a case or a gap in the register with its reason.
 */

let api: ApiHarness;
let clerk: string;

beforeAll(async () => {
  api = await ApiHarness.create('hostile');
  clerk = await api.token({ sub: 'clerk-h', role: 'clerk' });
});
afterAll(async () => {
  await api?.teardown();
});

const BASE311 = '/open311/v2';
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

async function post(path: string, contentType: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, type: res.headers.get('content-type') ?? '' };
}

const postJson = (body: Record<string, unknown> | Buffer, headers: Record<string, string> = {}) =>
  post('/v1/complaints', JSON_TYPE, Buffer.isBuffer(body) ? body : JSON.stringify(body), { authorization: `Bearer ${clerk}`, ...headers });
const postOpen311 = (form: Record<string, string> | Buffer) => post(`${BASE311}/requests.json`, FORM_TYPE, encodeForm(form));

/** Everything a registration could have changed: cases, events, numbers, keys, tokens and the sequence. */
async function recordState() {
  const { rows } = await api.db.pool.query(
    `SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS events,
            (SELECT count(*) FROM case_numbers) AS numbers, (SELECT count(*) FROM intake_requests) AS keys,
            (SELECT count(*) FROM open311_tokens) AS tokens,
            (SELECT last_value || '/' || is_called FROM case_number_seq) AS sequence`,
  );
  return rows[0];
}

describe('hostile registrations are refused through the JSON API and Open311, and change nothing', () => {
  test('when the table has its cases, then there are at least 60 of them', () => {
    expect(hostileInputs.length).toBeGreaterThanOrEqual(60);
  });

  test('when the base bodies of the table are posted unchanged, then both are registered (so each refusal below is its change)', async () => {
    const json = await postJson(validComplaint());
    expect(json.status).toBe(201);
    const form = await postOpen311(validOpen311());
    expect(form.status).toBe(201);
    // Both settle in the read model before the table runs, so that its snapshots see nothing move.
    const resolved = await api.eventually(
      `${BASE311}/tokens/${form.body[0].token}.json`,
      clerk,
      (b) => Array.isArray(b) && b[0]?.service_request_id,
    );
    for (const caseId of [json.body.caseId, resolved[0].service_request_id]) {
      await api.eventually(`/v1/complaints/${caseId}`, clerk, (b) => b.status === 'pending_acceptance' || b.status === 'closed');
    }
  });

  test.each(hostileInputs.map((h) => [h.name, h] as const))(
    'when JSON gets %s, then a 4xx problem document and nothing changes',
    async (_name, h) => {
      const before = await recordState();
      const res = await postJson(h.json);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: res.status, title: expect.any(String) });
      if (h.names?.json) {
        const said = (res.body.errors ?? []).map((e: { path: string; message: string }) => `${e.path}: ${e.message}`).join('\n');
        expect(said).toContain(h.names.json);
      }
      expect(await recordState()).toEqual(before);
    },
  );

  test.each(hostileInputs.map((h) => [h.name, h] as const))(
    'when Open311 gets %s, then a 4xx error list and nothing changes',
    async (_name, h) => {
      const before = await recordState();
      const res = await postOpen311(h.open311);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.type).toMatch(/^application\/json/);
      expect(Array.isArray(res.body) && res.body.length > 0).toBe(true);
      for (const e of res.body) expect(e).toEqual({ code: String(res.status), description: expect.any(String) });
      if (h.names?.open311) expect(res.body.map((e: { description: string }) => e.description).join('\n')).toContain(h.names.open311);
      expect(await recordState()).toEqual(before);
    },
  );
});

describe('receivedAt within the backdating limit and the clock-skew allowance', () => {
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

  test('when a complaint received 29 days ago is registered, then it keeps that time; 31 days ago is refused naming receivedAt', async () => {
    const receivedAt = daysAgo(29);
    const ok = await postJson({ ...validComplaint(), title: 'Letter registered late', receivedAt });
    expect(ok.status).toBe(201);
    const view = await api.eventually(`/v1/complaints/${ok.body.caseId}`, clerk, (b) => b.receivedAt !== undefined);
    expect(Date.parse(view.receivedAt)).toBe(Date.parse(receivedAt));

    const late = await postJson({ ...validComplaint(), title: 'Letter registered too late', receivedAt: daysAgo(31) });
    expect(late.status).toBe(400);
    expect(late.body.errors).toEqual([expect.objectContaining({ in: 'body', path: 'receivedAt', code: 'too_small' })]);
  });

  test('when the policy allows 2 days of backdating, then a complaint received 3 days ago is refused and one 1 day ago is not', async () => {
    const saved = api.policy;
    api.policy = parsePolicy({ intake: { backdatingLimit: { amount: 2, unit: 'days' } } });
    try {
      const before = await recordState();
      const refused = await postJson({ ...validComplaint(), title: 'Three days old', receivedAt: daysAgo(3) });
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toMatchObject({ path: 'receivedAt', message: expect.stringContaining('2 days') });
      expect(await recordState()).toEqual(before);
      expect((await postJson({ ...validComplaint(), title: 'One day old', receivedAt: daysAgo(1) })).status).toBe(201);
    } finally {
      api.policy = saved;
    }
  });

  test('when receivedAt is a minute ahead (within the clock skew), then it is registered; an hour ahead is refused', async () => {
    const soon = new Date(Date.now() + 60_000).toISOString();
    expect((await postJson({ ...validComplaint(), title: 'Clock a minute fast', receivedAt: soon })).status).toBe(201);
    const ahead = await postJson({
      ...validComplaint(),
      title: 'Clock an hour fast',
      receivedAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(ahead.status).toBe(400);
    expect(ahead.body.errors[0]).toMatchObject({ path: 'receivedAt', code: 'too_big' });
  });
});

describe("the location's address reaches the handling unit", () => {
  test('when a case with an address is accepted for a unit, then the unit, the clerk and the supervisor read the address; an analyst does not', async () => {
    const address = 'Canal path behind No. 8 Gongye Road, by the second sluice';
    // Another category at another spot: not a duplicate of the cases above.
    const reg = await postJson({
      ...validComplaint(),
      category: 'dust',
      title: 'Dust from the canal works',
      location: { lat: 36.9, lon: 117.6, address },
    });
    expect(reg.status).toBe(201);
    const caseId = reg.body.caseId as string;
    await api.eventually(`/v1/complaints/${caseId}`, clerk, (b) => b.status === 'pending_acceptance');
    const accepted = await api.request('POST', `/v1/complaints/${caseId}/accept`, { token: clerk, body: { unitId: 'unit-canal' } });
    expect(accepted.status).toBe(200);

    const unit = await api.token({ sub: 'canal-user', role: 'unit', unitId: 'unit-canal' });
    const seen = await api.eventually(`/v1/complaints/${caseId}`, unit, (b) => b.unitId === 'unit-canal');
    expect(seen.location).toEqual({ lat: 36.9, lon: 117.6, siteId: null, address });
    const supervisor = await api.token({ sub: 'sup-h', role: 'supervisor', divisions: ['3701'] });
    expect((await api.request('GET', `/v1/complaints/${caseId}`, { token: supervisor })).body.location.address).toBe(address);
    expect((await api.request('GET', `/v1/complaints/${caseId}`, { token: clerk })).body.location.address).toBe(address);
    const analyst = await api.token({ sub: 'analyst-h', role: 'analyst' });
    const analysed = await api.request('GET', `/v1/complaints/${caseId}`, { token: analyst });
    expect(analysed.status).toBe(200);
    expect(analysed.body.location).toEqual({ lat: 36.9, lon: 117.6, siteId: null });
  });

  test("when an Open311 request gives an address_string, then it is the case's address as the unit reads it", async () => {
    const form = { ...validOpen311(), lat: '36.681', long: '117.031', address_string: 'Lot 5 behind the tannery' };
    const res = await postOpen311(form);
    expect(res.status).toBe(201);
    const token = res.body[0].token as string;
    const resolved = await api.eventually(`${BASE311}/tokens/${token}.json`, clerk, (b) => Array.isArray(b) && b[0]?.service_request_id);
    const caseId = resolved[0].service_request_id as string;
    const view = await api.eventually(`/v1/complaints/${caseId}`, clerk, (b) => b.location !== undefined);
    expect(view.location.address).toBe('Lot 5 behind the tannery');
  });
});

describe('every case number drawn is a case, or a gap in the register with its reason', () => {
  const FAIL = 'FAIL-START';
  let failing: InProcessApi;
  let failingClient: Client;

  beforeAll(async () => {
    // An API whose Temporal client refuses every start of a complaint titled FAIL-START…, as an
    // unavailable server would: the start fails after the number was drawn.
    failingClient = new Client({
      connection: api.connection,
      dataConverter: testDataConverter,
      interceptors: {
        workflow: [
          {
            async start(input, next) {
              const [complaint] = input.options.args as [ComplaintInput];
              if (complaint?.intake?.title?.startsWith(FAIL)) throw new Error('14 UNAVAILABLE: the test refuses this start on purpose');
              return next(input);
            },
          },
        ],
      },
    });
    failing = await startInProcessApi({
      client: failingClient,
      connection: api.connection,
      pool: api.db.pool,
      taskQueue: api.taskQueue,
      policy: () => api.policy,
    });
  });
  afterAll(async () => {
    await failing?.stop();
  });

  async function register(baseUrl: string, body: Record<string, unknown>, key?: string) {
    const res = await fetch(`${baseUrl}/v1/complaints`, {
      method: 'POST',
      headers: { 'content-type': JSON_TYPE, authorization: `Bearer ${clerk}`, ...(key && { 'idempotency-key': key }) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  const sequenceValue = (caseId: string) => Number(/-(\d+)$/.exec(caseId)![1]);

  test('when 20 keys are each posted 5 times at once and 6 starts fail on purpose, then the numbers run on without a hole but for the 6 gaps the register lists', async () => {
    const startSeq = await api.db.pool.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value, is_called FROM case_number_seq`,
    );
    const first = Number(startSeq.rows[0].last_value) + (startSeq.rows[0].is_called ? 1 : 0);

    const keys = Array.from({ length: 20 }, (_, i) => `numbering-key-${i}-${Date.now()}`);
    const keyed = keys.flatMap((key, i) =>
      Array.from({ length: 5 }, () =>
        register(api.baseUrl, { ...validComplaint(), title: `Numbered complaint ${i}` }, key).then((r) => ({ key, ...r })),
      ),
    );
    // Starts that fail: three without a key, three with one (whose retry later starts the case).
    const failed = [0, 1, 2].map((i) => register(failing.baseUrl, { ...validComplaint(), title: `${FAIL} without a key ${i}` }));
    const failedKeys = [0, 1, 2].map((i) => `failing-key-${i}-${Date.now()}`);
    const failedKeyed = failedKeys.map((key, i) =>
      register(failing.baseUrl, { ...validComplaint(), title: `${FAIL} with a key ${i}` }, key),
    );
    const answers = await Promise.all(keyed);
    const failures = await Promise.all([...failed, ...failedKeyed]);

    // Each key: one case, created once, answered to all five posts.
    for (const key of keys) {
      const mine = answers.filter((a) => a.key === key);
      expect(mine.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
      expect(new Set(mine.map((a) => a.body.caseId)).size).toBe(1);
    }
    for (const f of failures) expect(f.status).toBe(503);

    // 20 cases and 6 failed starts drew 26 numbers, one after the other.
    const end = await api.db.pool.query<{ last_value: string }>(`SELECT last_value FROM case_number_seq`);
    expect(Number(end.rows[0].last_value)).toBe(first + 25);
    const caseNumbers = new Set(answers.map((a) => sequenceValue(a.body.caseId)));
    expect(caseNumbers.size).toBe(20);

    const supervisor = await api.token({ sub: 'sup-n', role: 'supervisor', divisions: ['37'] });
    const register1 = await api.request('GET', '/v1/case-numbers/gaps?pageSize=200', { token: supervisor });
    expect(register1.status).toBe(200);
    const gaps = (register1.body.items as Array<{ caseId: string; status: string; reason: string }>).filter(
      (g) => sequenceValue(g.caseId) >= first,
    );
    expect(gaps).toHaveLength(6);
    for (const g of gaps) {
      expect(g.status).toBe('gap');
      expect(g.reason).toMatch(/the workflow start failed \(503 Service Unavailable/);
    }
    // Every number from the first to the last is a case or a listed gap.
    const gapNumbers = new Set(gaps.map((g) => sequenceValue(g.caseId)));
    for (let n = first; n <= first + 25; n++) expect(caseNumbers.has(n) !== gapNumbers.has(n)).toBe(true);

    // A failed start retried with its key (through an API whose starts work) starts the case on the
    // same number and draws none: the number leaves the register.
    const retried = await register(api.baseUrl, { ...validComplaint(), title: `${FAIL} with a key 0` }, failedKeys[0]);
    expect(retried.status).toBe(200);
    const afterRetry = await api.db.pool.query<{ last_value: string }>(`SELECT last_value FROM case_number_seq`);
    expect(Number(afterRetry.rows[0].last_value)).toBe(first + 25);
    await api.eventually(`/v1/complaints/${retried.body.caseId}`, clerk, (b) => b.caseId === retried.body.caseId);
    const register2 = await api.request('GET', '/v1/case-numbers/gaps?pageSize=200', { token: clerk });
    const left = (register2.body.items as Array<{ caseId: string }>).map((g) => g.caseId);
    expect(left).not.toContain(retried.body.caseId);
    expect(left.filter((id) => sequenceValue(id) >= first)).toHaveLength(5);
  });

  test('when a key is replayed three times and then a new complaint is posted, then the new case has the next number', async () => {
    const key = `replayed-key-${Date.now()}`;
    const body = { ...validComplaint(), title: 'Replayed complaint' };
    const firstCase = await register(api.baseUrl, body, key);
    expect(firstCase.status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await register(api.baseUrl, body, key)).body.caseId).toBe(firstCase.body.caseId);
    // The same key with another request is refused (422) and draws nothing either.
    expect((await register(api.baseUrl, { ...body, title: 'Another complaint' }, key)).status).toBe(422);
    const next = await register(api.baseUrl, { ...validComplaint(), title: 'The next complaint' });
    expect(sequenceValue(next.body.caseId)).toBe(sequenceValue(firstCase.body.caseId) + 1);
  });
});

describe('every period parameter is validated: a bad or extreme period is a 4xx, never a 500', () => {
  type Probe = [string, 'GET' | 'POST', string, Record<string, unknown> | undefined, 'supervisor' | 'analyst' | 'clerk' | 'none'];
  const years = ['0000', '0999', '1000', '1969', '9999'];
  const at = (y: string) => `${y}-01-01T00:00:00Z`;
  const probes: Probe[] = years.flatMap((y): Probe[] => [
    [
      `backfill of quarters in ${y}`,
      'POST',
      '/v1/supervision/backfills',
      { kind: 're_inspection', from: `${y}-Q2`, to: `${y}-Q3` },
      'supervisor',
    ],
    [
      `backfill of days in ${y}`,
      'POST',
      '/v1/supervision/backfills',
      { kind: 'desk_check', from: `${y}-01-01`, to: `${y}-01-02` },
      'supervisor',
    ],
    [`a monthly report of ${y}`, 'POST', '/v1/reports', { kind: 'monthly', period: `${y}-01` }, 'analyst'],
    [`a quarterly report of ${y}`, 'POST', '/v1/reports', { kind: 'quarterly', period: `${y}-Q1` }, 'analyst'],
    [`the report monthly-${y}-01`, 'GET', `/v1/reports/monthly-${y}-01`, undefined, 'analyst'],
    [`rates from ${y}`, 'GET', `/v1/reports/rates?from=${at(y)}&to=${at('2026')}`, undefined, 'analyst'],
    [`cases received from ${y}`, 'GET', `/v1/complaints?from=${at(y)}`, undefined, 'clerk'],
    [`warnings from ${y}`, 'GET', `/v1/warnings?from=${at(y)}&to=${at(y)}`, undefined, 'supervisor'],
    [`the desk check of ${y}-01-01`, 'GET', `/v1/supervision/desk-checks/${y}-01-01`, undefined, 'supervisor'],
    [`the re-inspection of ${y}-Q1`, 'GET', `/v1/supervision/re-inspections/${y}-Q1`, undefined, 'supervisor'],
    [`published results of ${y}-Q1`, 'GET', `/v1/supervision/public/results?quarter=${y}-Q1`, undefined, 'none'],
    [`the backlog of ${y}`, 'GET', `/v1/governance/backlog?year=${y}`, undefined, 'supervisor'],
    [`backlog progress of ${y}`, 'GET', `/v1/governance/backlog/progress?year=${y}`, undefined, 'supervisor'],
    [`the public feed since ${y}`, 'GET', `/v1/public/cases?updatedSince=${at(y)}`, undefined, 'none'],
    [`Open311 requests from ${y}`, 'GET', `/open311/v2/requests.json?start_date=${at(y)}&end_date=${at(y)}`, undefined, 'none'],
    [`Open311 updates from ${y}`, 'GET', `/open311/v2/servicerequestupdates.json?start_date=${at(y)}&end_date=${at(y)}`, undefined, 'none'],
    [
      `a campaign over ${y}`,
      'POST',
      '/v1/governance/campaigns',
      { name: 'Dust', divisionCode: '370102', categories: ['dust'], period: { from: at(y), to: at(y) } },
      'supervisor',
    ],
  ]);

  test.each(probes)('when %s is asked for, then the answer is not a 5xx', async (_name, method, path, body, who) => {
    const principal = {
      supervisor: { sub: 'sup-p', role: 'supervisor' as const, divisions: ['37'] },
      analyst: { sub: 'analyst-p', role: 'analyst' as const },
      clerk: { sub: 'clerk-p', role: 'clerk' as const },
    };
    const token = who === 'none' ? undefined : await api.token(principal[who]);
    const res = await api.request(method, path, { token, body });
    expect(res.status).toBeLessThan(500);
  });
});
