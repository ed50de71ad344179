import fs from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { defaultPolicy } from '../domain/policy';
import { parsePolicy } from '../domain/schemas/policy';
import { ApiHarness } from './support/api-harness';
import { testDataConverter } from './support/temporal';

/** Rewards through the API, against the real dev server, a worker of its own and the development gateway. */

let api: ApiHarness;
let clerk: string;
let inspector: string;
let supervisor: string;
let analyst: string;
let unit: string;
beforeAll(async () => {
  api = await ApiHarness.create('rewards');
  clerk = await api.token({ sub: 'clerk-1', role: 'clerk' });
  inspector = await api.token({ sub: 'insp-1', role: 'inspector' });
  supervisor = await api.token({ sub: 'sup-1', role: 'supervisor', divisions: ['37'] });
  analyst = await api.token({ sub: 'ana-1', role: 'analyst' });
  unit = await api.token({ sub: 'u-user', role: 'unit', unitId: 'unit-9' });
});
afterEach(() => {
  api.policy = defaultPolicy;
});
afterAll(async () => {
  await api?.teardown();
});

let n = 0;
/** Register a complaint over the API and wait for its projection; returns its case number. */
async function report(
  reporter: Record<string, unknown> = { anonymous: false, name: 'Zhao Lei', phone: '13600002222', consentToShareWithUnit: false },
) {
  n++;
  const created = await api.request('POST', '/v1/complaints', {
    token: clerk,
    body: {
      channel: 'hotline',
      category: 'water',
      divisionCode: '370102',
      title: `Effluent into the river ${n}`,
      description: 'A factory discharges untreated effluent into the river at night.',
      location: { lat: 36 + n / 10, lon: 117 + n / 10 },
      reporter,
    },
  });
  expect(created.status).toBe(201);
  const { caseId } = created.body;
  await api.eventually(`/v1/complaints/${caseId}`, clerk, (b) => b.status === 'pending_acceptance');
  return caseId as string;
}

/** Every payload of a workflow's history, decrypted and decoded, as JSON text. */
async function decodedHistory(workflowId: string): Promise<string> {
  const history = await api.client.workflow.getHandle(workflowId).fetchHistory();
  const payloads: Payload[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if ('data' in node && 'metadata' in node) payloads.push(node as Payload);
    else for (const v of Object.values(node)) walk(v);
  };
  walk(history.events);
  let decoded = payloads;
  for (const codec of [...(testDataConverter.payloadCodecs ?? [])].reverse()) decoded = await codec.decode(decoded);
  return JSON.stringify(decoded.map((p) => defaultPayloadConverter.fromPayload(p)));
}

/** Store a reward's history for the replay test (test/replay.test.ts) when ECOLOOP_RECORD_HISTORIES=1. */
async function recordHistory(caseId: string, name: string): Promise<void> {
  if (process.env.ECOLOOP_RECORD_HISTORIES !== '1') return;
  const history = await api.client.workflow.getHandle(`reward-${caseId}`).fetchHistory();
  // Binary protobuf, as test/support/complaint-harness.ts stores the complaint histories.
  fs.writeFileSync(path.join(__dirname, 'histories', `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
}

const count = async (table: string, caseId: string) =>
  (
    await api.db.pool.query(
      `SELECT count(*)::int AS n FROM ${table} WHERE ${table === 'gateway_payments' ? `idempotency_key LIKE $1 || ':%'` : 'case_id = $1'}`,
      [table === 'gateway_payments' ? `reward-${caseId}` : caseId],
    )
  ).rows[0].n;

test('when an inspector records a passed preliminary check, then the instant reward waits for a supervisor’s approval, and is paid once approved', async () => {
  const caseId = await report();
  const created = await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ caseId, workflowId: `reward-${caseId}`, payeeMethod: 'reporter_contact' });
  expect(created.body.claimCode).toBeUndefined();

  const checked = await api.request('POST', `/v1/governance/rewards/${caseId}/preliminary-check`, {
    token: inspector,
    body: { passed: true },
  });
  expect(checked.status).toBe(200);
  expect(checked.body.payments).toEqual([
    expect.objectContaining({ seq: 1, kind: 'instant', amount: defaultPolicy.governance.rewards.instant, status: 'awaiting_approval' }),
  ]);
  // Not approved: nothing paid, nothing in the ledger.
  expect((await api.request('GET', `/v1/governance/rewards/${caseId}`, { token: clerk })).body.payments[0].status).toBe(
    'awaiting_approval',
  );
  expect(await count('gateway_payments', caseId)).toBe(0);
  expect(await count('reward_ledger', caseId)).toBe(0);

  // Only a supervisor approves.
  const byInspector = await api.request('POST', `/v1/governance/rewards/${caseId}/payments/1/approval`, {
    token: inspector,
    body: { decision: 'approved' },
  });
  expect(byInspector.status).toBe(403);
  const approved = await api.request('POST', `/v1/governance/rewards/${caseId}/payments/1/approval`, {
    token: supervisor,
    body: { decision: 'approved' },
  });
  expect(approved.status).toBe(200);

  const paid = await api.eventually(`/v1/governance/rewards/${caseId}`, clerk, (b) => b.payments[0].status === 'paid');
  expect(paid.totalPaid).toBe(defaultPolicy.governance.rewards.instant);
  const ledger = await api.request('GET', `/v1/governance/rewards/ledger?caseId=${caseId}`, { token: analyst });
  expect(ledger.status).toBe(200);
  expect(ledger.body.items).toEqual([
    expect.objectContaining({
      caseId,
      seq: 1,
      kind: 'instant',
      amount: defaultPolicy.governance.rewards.instant,
      status: 'paid',
      approvedBy: 'sup-1',
    }),
  ]);
  expect(JSON.stringify(ledger.body)).not.toMatch(/13600002222|Zhao Lei|payee/);
  expect(await count('gateway_payments', caseId)).toBe(1);

  // The reward's whole history carries the payee reference, never who the reporter is.
  const history = await decodedHistory(`reward-${caseId}`);
  expect(history).toContain(caseId);
  expect(history).toContain('payee-');
  expect(history).not.toMatch(/13600002222|Zhao Lei/);
});

test('when a finding or an approval is sent again with the same Idempotency-Key, then it is applied once and the retry gets the same answer; without a key the repeat is a conflict', async () => {
  const caseId = await report();
  expect((await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } })).status).toBe(201);
  const send = (path: string, token: string, body: object, key?: string) =>
    api.request('POST', `/v1/governance/rewards/${caseId}/${path}`, { token, body, ...(key && { headers: { 'idempotency-key': key } }) });

  const checked = await send('preliminary-check', inspector, { passed: true }, `check-${caseId}`);
  const checkedAgain = await send('preliminary-check', inspector, { passed: true }, `check-${caseId}`);
  expect([checked.status, checkedAgain.status]).toEqual([200, 200]);
  expect(checkedAgain.body).toEqual(checked.body);
  expect((await send('preliminary-check', inspector, { passed: true })).status).toBe(409);

  const approved = await send('payments/1/approval', supervisor, { decision: 'approved' }, `approve-${caseId}`);
  const approvedAgain = await send('payments/1/approval', supervisor, { decision: 'approved' }, `approve-${caseId}`);
  expect([approved.status, approvedAgain.status]).toEqual([200, 200]);
  expect(approvedAgain.body.payments).toEqual(approved.body.payments);

  const confirmed = await send('confirmation', inspector, { confirmed: false }, `confirm-${caseId}`);
  const confirmedAgain = await send('confirmation', inspector, { confirmed: false }, `confirm-${caseId}`);
  expect([confirmed.status, confirmedAgain.status]).toEqual([200, 200]);

  await api.eventually(`/v1/governance/rewards/${caseId}`, clerk, (b) => b.payments[0].status === 'paid');
  expect(await count('gateway_payments', caseId)).toBe(1);
  expect(await count('reward_ledger', caseId)).toBe(1);
});

test('when the policy does not require approval, then the instant reward is paid on the passed preliminary check alone', async () => {
  api.policy = parsePolicy({ governance: { rewards: { approvalRequired: false, instant: 120 } } });
  const caseId = await report();
  const created = await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } });
  expect(created.status).toBeLessThan(300);
  const checked = await api.request('POST', `/v1/governance/rewards/${caseId}/preliminary-check`, {
    token: inspector,
    body: { passed: true },
  });
  expect(checked.status).toBeLessThan(300);
  const paid = await api.eventually(`/v1/governance/rewards/${caseId}`, clerk, (b) => b.payments[0]?.status === 'paid');
  expect(paid.payments[0]).toMatchObject({ amount: 120, decidedBy: 'ecoloop' });
});

test('when whoever made the finding tries to approve its payment, then it is refused (409) and nothing is paid', async () => {
  const caseId = await report();
  await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } });
  await api.request('POST', `/v1/governance/rewards/${caseId}/preliminary-check`, { token: supervisor, body: { passed: true } });
  const self = await api.request('POST', `/v1/governance/rewards/${caseId}/payments/1/approval`, {
    token: supervisor,
    body: { decision: 'approved' },
  });
  expect(self.status).toBe(409);
  expect(self.body.detail).toMatch(/may not approve/);
  expect((await api.request('GET', `/v1/governance/rewards/${caseId}`, { token: clerk })).body.payments[0].status).toBe(
    'awaiting_approval',
  );
  expect(await count('reward_ledger', caseId)).toBe(0);
});

test('when a confirmed serious violation is rewarded, then the tiered reward is capped by the policy’s cap: 5,000 under a cap of 5,000, 10,000 under the default', async () => {
  async function tiered(capPolicy: typeof defaultPolicy, history?: string) {
    api.policy = capPolicy;
    const caseId = await report();
    await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } });
    await api.request('POST', `/v1/governance/rewards/${caseId}/preliminary-check`, { token: inspector, body: { passed: true } });
    const confirmed = await api.request('POST', `/v1/governance/rewards/${caseId}/confirmation`, {
      token: inspector,
      body: { confirmed: true, severity: 'serious', penaltyAmount: 1_000_000 },
    });
    expect(confirmed.status).toBe(200);
    for (const seq of [1, 2]) {
      const res = await api.request('POST', `/v1/governance/rewards/${caseId}/payments/${seq}/approval`, {
        token: supervisor,
        body: { decision: 'approved' },
      });
      expect(res.status).toBe(200);
    }
    const done = await api.eventually(`/v1/governance/rewards/${caseId}`, clerk, (b) => b.status === 'completed');
    if (history) await recordHistory(caseId, history);
    const ledger = await api.db.pool.query(
      `SELECT amount::float AS amount FROM reward_ledger WHERE case_id = $1 AND kind = 'tiered' AND status = 'paid'`,
      [caseId],
    );
    return { view: done, ledger: ledger.rows.map((r) => r.amount) };
  }
  const capped = await tiered(parsePolicy({ governance: { rewards: { cap: 5_000 } } }));
  expect(capped.view.payments[1]).toMatchObject({ kind: 'tiered', amount: 5_000, status: 'paid' });
  expect(capped.ledger).toEqual([5_000]);
  // The whole path of a reward (two findings, two approvals, two payments): its history guards replay.
  const byDefault = await tiered(defaultPolicy, 'reward-confirmed-paid');
  expect(byDefault.ledger).toEqual([10_000]);
});

test('when a handling unit calls the reward endpoints, then every one answers 403 and shows no reward or reporter data', async () => {
  const caseId = await report();
  await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } });
  const calls: Array<[string, string, unknown?]> = [
    ['GET', `/v1/governance/rewards/${caseId}`],
    ['GET', '/v1/governance/rewards/ledger'],
    ['POST', '/v1/governance/rewards', { caseId }],
    ['POST', `/v1/governance/rewards/${caseId}/preliminary-check`, { passed: true }],
    ['POST', `/v1/governance/rewards/${caseId}/payments/1/approval`, { decision: 'approved' }],
  ];
  for (const [method, path, body] of calls) {
    const res = await api.request(method, path, { token: unit, body });
    expect({ path, status: res.status }).toEqual({ path, status: 403 });
    expect(res.body.payments).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toMatch(/13600002222|Zhao Lei/);
  }
  // And the reward went on unchanged.
  expect((await api.request('GET', `/v1/governance/rewards/${caseId}`, { token: clerk })).body.status).toBe('awaiting_preliminary_check');
});

test('when the reporter is anonymous, then the reward is paid through a claim code: the clerk gets the code once, and the gateway holds a claimable payment to its hash', async () => {
  const caseId = await report({ anonymous: true, consentToShareWithUnit: false });
  const created = await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ payeeMethod: 'claim_code', claimCode: expect.stringMatching(/^[0-9A-F]{12}$/) });
  const again = await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } });
  expect(again.status).toBe(409);
  expect(again.body.claimCode).toBeUndefined();

  await api.request('POST', `/v1/governance/rewards/${caseId}/preliminary-check`, { token: inspector, body: { passed: true } });
  await api.request('POST', `/v1/governance/rewards/${caseId}/payments/1/approval`, { token: supervisor, body: { decision: 'approved' } });
  const paid = await api.eventually(`/v1/governance/rewards/${caseId}`, clerk, (b) => b.payments[0].status === 'paid');
  expect(paid.payments[0].claimable).toBe(true);
  const { rows } = await api.db.pool.query(
    `SELECT payee_method, payee_account, status FROM gateway_payments WHERE idempotency_key LIKE $1`,
    [`reward-${caseId}:%`],
  );
  expect(rows).toEqual([{ payee_method: 'claim_code', payee_account: expect.stringMatching(/^claim:[0-9a-f]{64}$/), status: 'claimable' }]);
  expect(rows[0].payee_account).not.toContain(created.body.claimCode);
});

test('when rewards are listed, then each comes as its workflow tells it, with a total, ISO instants, within the reader’s scope', async () => {
  const caseId = await report();
  expect((await api.request('POST', '/v1/governance/rewards', { token: clerk, body: { caseId } })).status).toBe(201);
  await api.request('POST', `/v1/governance/rewards/${caseId}/preliminary-check`, { token: inspector, body: { passed: true } });

  const list = await api.request('GET', '/v1/governance/rewards?pageSize=50', { token: analyst });
  expect(list.status).toBe(200);
  expect(list.body.total).toBeGreaterThanOrEqual(1);
  expect(list.body.items.length).toBe(Math.min(list.body.total, 50));
  const mine = list.body.items.find((r: { caseId: string }) => r.caseId === caseId);
  expect(mine).toMatchObject({ caseId, payments: [expect.objectContaining({ seq: 1, status: 'awaiting_approval' })] });
  expect(mine.preliminaryCheck.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

  const elsewhere = await api.token({ sub: 'sup-2', role: 'supervisor', divisions: ['3702'] });
  expect((await api.request('GET', '/v1/governance/rewards', { token: elsewhere })).body).toMatchObject({ total: 0, items: [] });
  expect((await api.request('GET', '/v1/governance/rewards', { token: supervisor })).body.total).toBe(list.body.total);
  expect((await api.request('GET', '/v1/governance/rewards', { token: unit })).status).toBe(403);
  expect((await api.request('GET', '/v1/governance/rewards?pageSize=51', { token: analyst })).status).toBe(400);
});
