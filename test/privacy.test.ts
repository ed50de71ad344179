import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { workflowIdFor } from '../domain/case';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../runtime/encryption';
import { ApiHarness } from './support/api-harness';
import { payloadToJson as toJson, payloadsIn, readJsonPayload, userPayloadsOf, type PayloadJson } from './support/payloads';

/**
 * Reporter privacy end to end: the reporter's name, phone, email and address never appear in clear
 * in the raw Temporal history (read by a client without the codec), nor in the history decoded
 * through the codec endpoint (the identity is sealed under the reporter ring, which the codec does
 * not have), nor in any raw database row; they reach exactly the principals allowed to see them;
 * the codec endpoint opens payloads for ops only.
 */

const UI_ORIGIN = 'http://127.0.0.1:8233';
const UNIT = 'unit-privacy-1';

/** Distinctive enough that a hit can only be a leak. */
const withoutConsent = {
  anonymous: false,
  name: 'Ouyang Mingxuan 欧阳明轩',
  phone: '+86 139 4471 0042',
  email: 'mingxuan.whistle4471@example.org',
  address: 'Room 4471, Building 9, Hepingli Lane 12',
  consentToShareWithUnit: false,
};
const withConsent = {
  anonymous: false,
  name: 'Situ Lanqing 司徒兰青',
  email: 'lanqing.whistle8826@example.org',
  address: 'Flat 8826, Qingnian Road 301',
  consentToShareWithUnit: true,
};
/** Registered without contact details, which come later through the supplement update (an update's input). */
const supplemented = { name: 'Huangfu Wenjing 皇甫文静', consentToShareWithUnit: false };
const supplementedPhone = '+86 135 8826 0917';
const needles = [...Object.values(withoutConsent), ...Object.values(withConsent), supplemented.name, supplementedPhone].filter(
  (v): v is string => typeof v === 'string',
);

/** Three unrelated complaints (other categories and places, so none is another's duplicate). */
const complaint = (category: string, lat: number) => ({
  channel: 'hotline',
  category,
  divisionCode: '370102',
  title: `A ${category} complaint`,
  description: 'Something pollutes the neighbourhood every night after midnight.',
  location: { lat, lon: 117.0 },
});

/** Which needles occur in `haystack` (as UTF-8 bytes, or hex-encoded as PostgreSQL prints bytea). */
function leaked(haystack: Buffer | string): string[] {
  const bytes = Buffer.isBuffer(haystack) ? haystack : Buffer.from(haystack, 'utf8');
  return needles.filter(
    (n) => bytes.includes(Buffer.from(n, 'utf8')) || bytes.includes(Buffer.from(Buffer.from(n, 'utf8').toString('hex'))),
  );
}

const utf8 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

let api: ApiHarness;
const tokens: Record<string, string> = {};
let caseA: string;
let caseB: string;
let caseC: string;

beforeAll(async () => {
  api = await ApiHarness.create('privacy', { temporalUiUrl: UI_ORIGIN });
  const principals = {
    clerk: { sub: 'clerk-p', role: 'clerk' },
    unit: { sub: 'unit-p-user', role: 'unit', unitId: UNIT },
    otherUnit: { sub: 'unit-q-user', role: 'unit', unitId: 'unit-privacy-2' },
    supervisor: { sub: 'sup-p', role: 'supervisor', divisions: ['3701'] },
    inspector: { sub: 'insp-p', role: 'inspector' },
    analyst: { sub: 'ana-p', role: 'analyst' },
    ops: { sub: 'ops-p', role: 'ops' },
    admin: { sub: 'admin-p', role: 'admin' },
  } as const;
  for (const [name, p] of Object.entries(principals)) tokens[name] = await api.token(p as never);

  // A: full identity, no consent. B: consent. C: contact supplemented later, no consent.
  const register = async (body: object) => {
    const res = await api.request('POST', '/v1/complaints', { token: tokens.clerk, body });
    expect(res.status).toBe(201);
    return res.body.caseId as string;
  };
  caseA = await register({ ...complaint('water', 36.1), reporter: withoutConsent });
  caseB = await register({ ...complaint('noise', 36.5), reporter: withConsent });
  caseC = await register({ ...complaint('air', 36.9), reporter: supplemented, missing: ['contact'] });
  await api.eventually(`/v1/complaints/${caseC}`, tokens.clerk, (v) => v.status === 'awaiting_supplement');
  const supplement = await api.request('POST', `/v1/complaints/${caseC}/supplement`, {
    token: tokens.clerk,
    body: { reporter: { phone: supplementedPhone }, note: 'phone number given on a second call' },
  });
  expect(supplement).toMatchObject({ status: 200 });
  for (const caseId of [caseA, caseB, caseC]) {
    await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, (v) => v.status === 'pending_acceptance');
    const accepted = await api.request('POST', `/v1/complaints/${caseId}/accept`, { token: tokens.clerk, body: { unitId: UNIT } });
    expect(accepted.body).toMatchObject({ status: 'handling', unitId: UNIT });
  }
});
afterAll(async () => {
  await api?.teardown();
});

/** The raw history, through a client that has no codec. */
async function rawHistory(caseId: string): Promise<temporal.api.history.v1.IHistory> {
  const plain = new Client({ connection: api.connection });
  return plain.workflow.getHandle(workflowIdFor(caseId)).fetchHistory();
}

describe('at rest', () => {
  test("when a case's raw Temporal history is read without the codec, then none of the reporter's fields is in it, and every payload is encrypted with a key id", async () => {
    for (const caseId of [caseA, caseB, caseC]) {
      const history = await rawHistory(caseId);
      const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
      expect({ caseId, leaked: leaked(bytes) }).toEqual({ caseId, leaked: [] });

      // The check is not vacuous: the history carries the intake, the supplement and the projections, all sealed.
      const found = payloadsIn(history.events);
      const types = new Set((history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType!]));
      expect([...types]).toEqual(
        expect.arrayContaining([
          'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
          // The duplicate check and the projections: local activities, their arguments and results in markers.
          'EVENT_TYPE_MARKER_RECORDED',
          'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
        ]),
      );
      // Search attributes (indexed, so never encrypted), the SDK's own patch markers (a patch id) and the
      // local-activity markers' bookkeeping (`data`: sequence, attempt, activity type, times) hold no user
      // data; a local activity's result (`details.result`) is a payload like any other.
      const userPayloads = found.filter(
        (f) => !/searchAttributes|markerRecordedEventAttributes\.details\.(patch-data|data)\./.test(f.path),
      );
      expect(userPayloads.length).toBeGreaterThan(5);
      for (const { path, payload } of userPayloads) {
        expect({ path, encoding: utf8(payload.metadata?.encoding), keyId: utf8(payload.metadata?.[KEY_ID_METADATA]) }).toEqual({
          path,
          encoding: ENCRYPTED_ENCODING,
          keyId: 'dev',
        });
      }
      // A client without the codec cannot read the workflow's input.
      const started = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!;
      expect(() => defaultPayloadConverter.fromPayload(started.workflowExecutionStartedEventAttributes!.input!.payloads![0])).toThrow(
        /encoding/i,
      );
    }
  });

  test("when every row of every table of the database is dumped as text, then none of the reporter's fields is in it, and the reporters are stored sealed", async () => {
    const tables = (
      await api.db.pool.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
      )
    ).rows.map((r) => r.table_name);
    expect(tables).toEqual(expect.arrayContaining(['cases', 'case_events', 'case_reporters', 'outbox']));
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const { rows } = await api.db.pool.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
      counts[table] = rows.length;
      expect({ table, leaked: leaked(rows.map((r) => r.row).join('\n')) }).toEqual({ table, leaked: [] });
    }
    // The tables that matter hold this test's cases (so the check above looked at real rows).
    expect(counts).toMatchObject({ cases: 3, case_reporters: 3 });
    expect(counts.case_events).toBeGreaterThanOrEqual(9);
    expect(counts.outbox).toBeGreaterThan(0);
    const sealed = await api.db.pool.query(
      `SELECT case_id, key_id, legacy_reporter, octet_length(reporter_enc) > 28 AS has_ciphertext FROM case_reporters ORDER BY case_id`,
    );
    // Under the reporter ring's key, not the payload key the codec endpoint holds.
    expect(sealed.rows).toEqual(
      [caseA, caseB, caseC].sort().map((case_id) => ({ case_id, key_id: 'reporter-dev', legacy_reporter: null, has_ciphertext: true })),
    );
  });
});

describe('through the API', () => {
  test('when the clerk and the covering supervisor read the case, then they see the reporter; the unit without consent, inspectors, analysts and ops do not', async () => {
    for (const who of ['clerk', 'supervisor']) {
      const res = await api.request('GET', `/v1/complaints/${caseA}`, { token: tokens[who] });
      expect({ who, status: res.status, reporter: res.body.reporter }).toEqual({ who, status: 200, reporter: withoutConsent });
    }
    for (const who of ['unit', 'inspector', 'analyst', 'ops']) {
      const res = await api.request('GET', `/v1/complaints/${caseA}`, { token: tokens[who] });
      expect({ who, status: res.status, reporter: res.body.reporter, leaked: leaked(JSON.stringify(res.body)) }).toEqual({
        who,
        status: 200,
        reporter: undefined,
        leaked: [],
      });
    }
  });

  test('when the reporter consented, then the unit handling the case sees them, and another unit does not see the case at all', async () => {
    const res = await api.request('GET', `/v1/complaints/${caseB}`, { token: tokens.unit });
    expect(res.status).toBe(200);
    expect(res.body.reporter).toMatchObject({ name: withConsent.name, email: withConsent.email, consentToShareWithUnit: true });
    const other = await api.request('GET', `/v1/complaints/${caseB}`, { token: tokens.otherUnit });
    expect(other.status).toBe(404);
  });

  test('when cases are listed, then even for a clerk the items carry no reporter fields', async () => {
    for (const who of ['clerk', 'supervisor', 'unit']) {
      const res = await api.request('GET', '/v1/complaints?pageSize=50', { token: tokens[who] });
      expect(res.status).toBe(200);
      expect(res.body.items.map((i: { caseId: string }) => i.caseId).sort()).toEqual([caseA, caseB, caseC].sort());
      expect({
        who,
        leaked: leaked(JSON.stringify(res.body)),
        withReporter: res.body.items.filter((i: object) => 'reporter' in i),
      }).toEqual({
        who,
        leaked: [],
        withReporter: [],
      });
    }
  });
});

describe('codec endpoint', () => {
  async function startedInput(caseId: string): Promise<Payload> {
    const history = await rawHistory(caseId);
    return history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!.input!
      .payloads![0];
  }
  const headers = { 'x-namespace': 'default' };

  const sealedReporter = (flags: { anonymous: boolean; consentToShareWithUnit: boolean }) => ({
    ...flags,
    identity: [{ sealed: 'reporter', keyId: 'reporter-dev', data: expect.any(String) }],
  });

  test('when ops decodes a payload of the raw history, then the workflow input comes back in clear but the reporter identity stays sealed', async () => {
    const payload = await startedInput(caseA);
    const res = await api.request('POST', '/codec/decode', { token: tokens.ops, headers, body: { payloads: [toJson(payload)] } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const [decoded] = res.body.payloads;
    expect(Buffer.from(decoded.metadata.encoding, 'base64').toString()).toBe('json/plain');
    const input = JSON.parse(Buffer.from(decoded.data, 'base64').toString('utf8'));
    expect(input).toMatchObject({ caseId: caseA, intake: { title: 'A water complaint' } });
    expect(input.intake.reporter).toEqual(sealedReporter({ anonymous: false, consentToShareWithUnit: false }));
    expect(leaked(JSON.stringify(input))).toEqual([]);
  });

  test("when ops decodes every payload of every case's history through the codec, then none of the reporter's fields is in it", async () => {
    for (const caseId of [caseA, caseB, caseC]) {
      const found = userPayloadsOf(await rawHistory(caseId));
      const res = await api.request('POST', '/codec/decode', {
        token: tokens.ops,
        headers,
        body: { payloads: found.map((f) => toJson(f.payload)) },
      });
      expect(res.status).toBe(200);
      const decoded = (res.body.payloads as PayloadJson[]).map(readJsonPayload);
      expect(decoded.filter((d) => d.encoding === 'json/plain').length).toBeGreaterThan(5);
      expect({ caseId, leaked: leaked(decoded.map((d) => d.text).join('\n')) }).toEqual({ caseId, leaked: [] });
    }
  });

  test('when ops encodes a payload, then it comes back encrypted under the current key and decodes to the original', async () => {
    const clear = toJson(defaultPayloadConverter.toPayload({ hello: 'operator' }));
    const encoded = await api.request('POST', '/codec/encode', { token: tokens.ops, headers, body: { payloads: [clear] } });
    expect(encoded.status).toBe(200);
    const [sealed] = encoded.body.payloads;
    expect(Buffer.from(sealed.metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed.metadata[KEY_ID_METADATA], 'base64').toString()).toBe('dev');
    const decoded = await api.request('POST', '/codec/decode', { token: tokens.ops, headers, body: encoded.body });
    expect(decoded.body.payloads).toEqual([clear]);
  });

  test('when anyone but ops calls the codec, then no token gets 401 and clerk, supervisor and admin get 403, with nothing decoded', async () => {
    const body = { payloads: [toJson(await startedInput(caseA))] };
    const none = await api.request('POST', '/codec/decode', { headers, body });
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toMatch(/application\/problem\+json/);
    for (const who of ['clerk', 'supervisor', 'admin']) {
      const res = await api.request('POST', '/codec/decode', { token: tokens[who], headers, body });
      expect({ who, status: res.status, leaked: leaked(JSON.stringify(res.body)) }).toEqual({ who, status: 403, leaked: [] });
    }
  });

  test('when ops asks for another namespace or sends malformed payloads, then the codec refuses with a problem document', async () => {
    const body = { payloads: [toJson(await startedInput(caseA))] };
    const foreign = await api.request('POST', '/codec/decode', { token: tokens.ops, headers: { 'x-namespace': 'elsewhere' }, body });
    expect(foreign.status).toBe(403);
    const malformed = await api.request('POST', '/codec/decode', {
      token: tokens.ops,
      headers,
      body: { payloads: [{ data: 'not base64!' }] },
    });
    expect(malformed.status).toBe(400);
    const tampered = structuredClone(body);
    tampered.payloads[0].data = Buffer.from(
      Buffer.from(tampered.payloads[0].data, 'base64').map((b, i) => (i === 20 ? b ^ 1 : b)),
    ).toString('base64');
    const broken = await api.request('POST', '/codec/decode', { token: tokens.ops, headers, body: tampered });
    expect(broken.status).toBe(422);
  });

  test('when the official temporal CLI shows the history through the codec endpoint with an ops token, then it prints the workflow input in clear, the reporter identity sealed', async () => {
    const shown = await promisify(execFile)(
      process.env.TEMPORAL_CLI_PATH!,
      [
        'workflow',
        'show',
        '--workflow-id',
        workflowIdFor(caseA),
        '--address',
        process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS!,
        '--output',
        'json',
        '--codec-endpoint',
        `${api.baseUrl}/codec`,
        '--codec-auth',
        `Bearer ${tokens.ops}`,
      ],
      { timeout: 30_000 },
    );
    const events = JSON.parse(shown.stdout).events as Array<{
      workflowExecutionStartedEventAttributes?: { input: { payloads: Array<{ data: string }> } };
    }>;
    const input = events.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!.input.payloads[0];
    expect(JSON.parse(Buffer.from(input.data, 'base64').toString('utf8'))).toMatchObject({
      caseId: caseA,
      intake: { reporter: sealedReporter({ anonymous: false, consentToShareWithUnit: false }) },
    });
    expect(leaked(Buffer.from(input.data, 'base64'))).toEqual([]);
  });

  test('when the Temporal UI sends its CORS preflight, then its origin is allowed with the headers it needs; another origin is not', async () => {
    const preflight = (origin: string) =>
      fetch(`${api.baseUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
    const ui = await preflight(UI_ORIGIN);
    expect(ui.status).toBe(204);
    expect(ui.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(ui.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'x-namespace']),
    );
    const evil = await preflight('http://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });
});
