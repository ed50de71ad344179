import { workflowIdFor } from '../domain/case';
import { ApiHarness } from './support/api-harness';

let api: ApiHarness;
let clerkToken: string;
let unitToken: string;
beforeAll(async () => {
  api = await ApiHarness.create('api-int');
  clerkToken = await api.token({ sub: 'clerk-1', role: 'clerk' });
  unitToken = await api.token({ sub: 'u1-user', role: 'unit', unitId: 'unit-7' });
});
afterAll(async () => {
  await api?.teardown();
});

const complaint = {
  channel: 'wechat',
  category: 'noise',
  divisionCode: '370102',
  title: 'Night-time construction noise',
  description: 'Pile driving after 23:00 next to the residential compound.',
  location: { lat: 36.66, lon: 117.02, address: 'Lishan Road 18' },
  reporter: { anonymous: false, name: 'Chen Jing', phone: '13912345678', consentToShareWithUnit: false },
};

describe('API -> Temporal dev server -> worker -> PostgreSQL and back', () => {
  test('when a clerk registers a complaint over HTTP, then its workflow runs, projects it into PostgreSQL, and the API reads it back', async () => {
    const created = await api.request('POST', '/v1/complaints', { token: clerkToken, body: complaint });
    expect(created.status).toBe(201);
    const { caseId } = created.body;
    expect(caseId).toMatch(/^EC-\d{4}-\d{7}$/);
    expect(created.headers.get('location')).toBe(`/v1/complaints/${caseId}`);

    // The workflow is on the real server, running.
    const description = await api.client.workflow.getHandle(workflowIdFor(caseId)).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe(api.taskQueue);

    // The worker projected it: the row and the events are in PostgreSQL, and the API serves them.
    const view = await api.eventually(`/v1/complaints/${caseId}`, clerkToken, (b) => b.status === 'pending_acceptance');
    expect(view.timeline.map((e: { type: string }) => e.type)).toEqual(['registered', 'registered_for_acceptance']);
    expect(view.reporter).toMatchObject({ name: 'Chen Jing' });
    const row = await api.db.pool.query(`SELECT status, category, division_code, owner_id FROM cases WHERE case_id = $1`, [caseId]);
    expect(row.rows[0]).toEqual({ status: 'pending_acceptance', category: 'noise', division_code: '370102', owner_id: 'clerk-1' });

    // A decision goes through the workflow and comes back projected.
    const accepted = await api.request('POST', `/v1/complaints/${caseId}/accept`, { token: clerkToken, body: { unitId: 'unit-7' } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'handling', unitId: 'unit-7' });
    const asUnit = await api.request('GET', `/v1/complaints/${caseId}`, { token: unitToken });
    expect(asUnit.status).toBe(200);
    expect(asUnit.body.status).toBe('handling');
    // Without the reporter's consent, the unit does not see who complained.
    expect(asUnit.body.reporter).toBeUndefined();

    // Operators can find it in the Temporal UI by its search attributes.
    const deadline = Date.now() + 15_000;
    let found: string[] = [];
    while (Date.now() < deadline) {
      found = [];
      for await (const wf of api.client.workflow.list({
        query: `WorkflowId = '${workflowIdFor(caseId)}' AND EcoStatus = 'handling' AND EcoUnit = 'unit-7' AND EcoDivision = '370102'`,
      })) {
        found.push(wf.workflowId);
      }
      if (found.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toEqual([workflowIdFor(caseId)]);
  });

  test('when a decision is impossible in the current state, then the API answers 409 naming the state, and the real server records nothing', async () => {
    const created = await api.request('POST', '/v1/complaints', {
      token: clerkToken,
      body: { ...complaint, title: 'Second', location: { lat: 37.5, lon: 118.5 } },
    });
    const { caseId } = created.body;
    await api.eventually(`/v1/complaints/${caseId}`, clerkToken, (b) => b.status === 'pending_acceptance');
    const handle = api.client.workflow.getHandle(workflowIdFor(caseId));
    // Let the workflow settle, then take the history.
    await new Promise((r) => setTimeout(r, 500));
    const before = (await handle.fetchHistory()).events?.length;

    const res = await api.request('POST', `/v1/complaints/${caseId}/review`, { token: clerkToken, body: { decision: 'approved' } });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 409, title: 'Conflict', currentState: 'pending_acceptance' });
    expect(res.body.detail).toContain("'pending_acceptance'");
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);

    const after = await handle.fetchHistory();
    expect(after.events?.length).toBe(before);
  });

  test('when the same Idempotency-Key is sent twice, then one case is created and both answers name it', async () => {
    const headers = { 'idempotency-key': `retry-${Date.now()}-abcdef` };
    const first = await api.request('POST', '/v1/complaints', { token: clerkToken, body: complaint, headers });
    const second = await api.request('POST', '/v1/complaints', { token: clerkToken, body: complaint, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ caseId: first.body.caseId, created: false });
    const reused = await api.request('POST', '/v1/complaints', { token: clerkToken, body: { ...complaint, title: 'Other' }, headers });
    expect(reused.status).toBe(422);
  });

  test('when no token is sent, then the API answers 401 with a problem document and starts nothing', async () => {
    const before = await api.db.pool.query(`SELECT last_value FROM case_number_seq`);
    const res = await api.request('POST', '/v1/complaints', { body: complaint });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    const after = await api.db.pool.query(`SELECT last_value FROM case_number_seq`);
    expect(after.rows[0]).toEqual(before.rows[0]);
  });

  test('when GET /health is called, then it reports Temporal and PostgreSQL reachable', async () => {
    const res = await api.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', temporal: { reachable: true }, database: { reachable: true } });
  });
});
