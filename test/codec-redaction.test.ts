import fs from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { workflowIdFor, type ComplaintInput } from '../domain/case';
import { intakeSchema } from '../domain/schemas/case';
import { casePolicy } from '../domain/policy';
import { EncryptionCodec, REDACTED_IDENTITY, isEncrypted } from '../runtime/encryption';
import { COMPLAINT_WORKFLOW, type ComplaintWorkflow } from '../workflows/contracts/complaint';
import { ApiHarness } from './support/api-harness';
import { payloadToJson, readJsonPayload, userPayloadsOf, type PayloadJson } from './support/payloads';
import { testKeyRing } from './support/temporal';

/**
 * Two layers (docs/privacy.md): the codec endpoint that operators use opens the payload layer and
 * nothing more. Every payload of a case's whole history, decoded through `POST /codec/decode` as
 * `ops`, shows the reporter's identity as a sealed marker and never in clear; histories written
 * before the identity was sealed (a case started the old way, and the stored histories of
 * test/histories/, as recorded and as the old payload codec encrypted them) decode with the
 * identity redacted. Non-ops tokens are refused as in production.
 */

/** Distinctive enough that a hit can only be a leak. */
const reporter = {
  anonymous: false,
  name: 'Zhuge Kongming 诸葛孔明',
  email: 'kongming.sealed5521@example.org',
  address: 'Unit 5521, Wolong Gang 7',
  consentToShareWithUnit: false,
};
/** Given later, through the supplement update. */
const phone = '+86 137 5521 0839';
/** A case started the way the API started cases before sealing: the reporter in clear in the workflow input. */
const oldShapeReporter = {
  anonymous: false,
  name: 'Ximen Chuixue 西门吹雪',
  phone: '+86 139 0613 2277',
  email: 'chuixue.legacy2277@example.org',
  address: 'Courtyard 2277, Wanmei Hutong',
  consentToShareWithUnit: false,
};
const identityOf = (r: object) => Object.values(r).filter((v): v is string => typeof v === 'string');
const needles = [...identityOf(reporter), phone, ...identityOf(oldShapeReporter)];

/** The reporter of the stored histories (test/support/complaint-harness.ts). */
const storedNeedles = ['Wang Fang', '13800000000'];

const complaint = {
  channel: 'hotline',
  category: 'water',
  divisionCode: '370102',
  title: 'Oily water in the canal by the school',
  description: 'Every morning the canal by the school smells of oil and has a rainbow film.',
  location: { lat: 36.66, lon: 117.02 },
};

let api: ApiHarness;
const tokens: Record<string, string> = {};
let sealedCase: string;
let oldCase: string;

const headers = { 'x-namespace': 'default' };

/** Every payload through the codec endpoint as ops, in pages the endpoint takes. */
async function decodeAsOps(payloads: Payload[]): Promise<PayloadJson[]> {
  const decoded: PayloadJson[] = [];
  for (let i = 0; i < payloads.length; i += 200) {
    const body = { payloads: payloads.slice(i, i + 200).map(payloadToJson) };
    const res = await api.request('POST', '/codec/decode', { token: tokens.ops, headers, body });
    expect(res.status).toBe(200);
    decoded.push(...(res.body.payloads as PayloadJson[]));
  }
  expect(decoded).toHaveLength(payloads.length);
  return decoded;
}

/** A history's user payloads, decoded through the codec endpoint, by path. */
async function decodedHistory(history: temporal.api.history.v1.IHistory): Promise<Array<{ path: string; json: unknown; text: string }>> {
  const found = userPayloadsOf(history);
  const decoded = await decodeAsOps(found.map((f) => f.payload));
  return found.map((f, i) => {
    const { encoding, text } = readJsonPayload(decoded[i]);
    return { path: f.path, text, json: encoding === 'json/plain' ? JSON.parse(text) : undefined };
  });
}

function leaked(text: string, strings: string[]): string[] {
  return strings.filter((s) => text.includes(s));
}

async function rawHistory(caseId: string): Promise<temporal.api.history.v1.IHistory> {
  const plain = new Client({ connection: api.connection });
  return plain.workflow.getHandle(workflowIdFor(caseId)).fetchHistory();
}

beforeAll(async () => {
  api = await ApiHarness.create('codec-redaction');
  const principals = {
    clerk: { sub: 'clerk-r', role: 'clerk' },
    unit: { sub: 'unit-r-user', role: 'unit', unitId: 'unit-r' },
    supervisor: { sub: 'sup-r', role: 'supervisor', divisions: ['3701'] },
    inspector: { sub: 'insp-r', role: 'inspector' },
    analyst: { sub: 'ana-r', role: 'analyst' },
    ops: { sub: 'ops-r', role: 'ops' },
    admin: { sub: 'admin-r', role: 'admin' },
  } as const;
  for (const [name, p] of Object.entries(principals)) tokens[name] = await api.token(p as never);

  // Registered through the API, the phone supplemented later, then accepted.
  const registered = await api.request('POST', '/v1/complaints', {
    token: tokens.clerk,
    body: { ...complaint, reporter, missing: ['contact'] },
  });
  expect(registered.status).toBe(201);
  sealedCase = registered.body.caseId;
  await api.eventually(`/v1/complaints/${sealedCase}`, tokens.clerk, (v) => v.status === 'awaiting_supplement');
  const supplemented = await api.request('POST', `/v1/complaints/${sealedCase}/supplement`, {
    token: tokens.clerk,
    body: { reporter: { phone }, note: 'phone given on a second call' },
  });
  expect(supplemented.status).toBe(200);

  // Started as the API did before sealing: the whole reporter in the input, under the payload codec only.
  oldCase = `EC-2026-${randomInt(9_000_000, 9_999_999)}`;
  const intake = intakeSchema.parse({ ...complaint, category: 'noise', location: { lat: 36.1, lon: 117.5 }, reporter: oldShapeReporter });
  const input: ComplaintInput = {
    caseId: oldCase,
    intake,
    receivedAt: Date.now(),
    owner: { id: 'clerk-r', role: 'clerk' },
    policy: casePolicy(api.policy, intake.category, intake.urgency),
  };
  await api.client.workflow.start<ComplaintWorkflow>(COMPLAINT_WORKFLOW, {
    workflowId: workflowIdFor(oldCase),
    taskQueue: api.taskQueue,
    args: [input],
  });

  for (const caseId of [sealedCase, oldCase]) {
    await api.eventually(`/v1/complaints/${caseId}`, tokens.clerk, (v) => v.status === 'pending_acceptance');
    const accepted = await api.request('POST', `/v1/complaints/${caseId}/accept`, { token: tokens.clerk, body: { unitId: 'unit-r' } });
    expect(accepted.body).toMatchObject({ status: 'handling' });
  }
});
afterAll(async () => {
  await api?.teardown();
});

test('when every payload of a case registered through the API is decoded through the codec as ops, then no reporter field is in clear and the identity shows sealed', async () => {
  const decoded = await decodedHistory(await rawHistory(sealedCase));
  expect({ leaked: leaked(decoded.map((d) => d.text).join('\n'), needles) }).toEqual({ leaked: [] });

  // Not vacuous: the codec opened the payload layer (the case reads in clear) and the identity travelled sealed in each place.
  expect(decoded.every((d) => d.json !== undefined || d.text === '')).toBe(true);
  const sealedMarker = { sealed: 'reporter', keyId: 'reporter-dev', data: expect.any(String) };
  const started = decoded.find((d) => d.path.includes('workflowExecutionStartedEventAttributes.input'))!;
  expect(started.json).toMatchObject({
    caseId: sealedCase,
    intake: {
      title: complaint.title,
      reporter: { anonymous: false, consentToShareWithUnit: false, identity: [sealedMarker] },
    },
  });
  expect(Object.keys((started.json as { intake: { reporter: object } }).intake.reporter).sort()).toEqual([
    'anonymous',
    'consentToShareWithUnit',
    'identity',
  ]);
  const update = decoded.find((d) => d.path.includes('workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args'))!;
  expect(update.json).toMatchObject({ reporter: { identity: [sealedMarker] }, note: 'phone given on a second call' });
  // The projections are local activities: their inputs are not in the history. Every other payload with a
  // reporter (the supplement's argument) carries the identity sealed.
  const withReporter = decoded.filter((d) => (d.json as { reporter?: unknown })?.reporter !== undefined);
  expect(withReporter.length).toBeGreaterThanOrEqual(1);
  for (const p of withReporter) {
    const { identity } = (p.json as { reporter: { identity: unknown[] } }).reporter;
    expect(identity.length).toBeGreaterThanOrEqual(1);
    for (const part of identity) expect(part).toEqual(sealedMarker);
  }

  // The identity is all there for those who may see it: sealed parts merged in order, opened from PostgreSQL.
  const read = await api.request('GET', `/v1/complaints/${sealedCase}`, { token: tokens.clerk });
  expect(read.body.reporter).toEqual({ ...reporter, phone });
});

test('when every payload of a case started before sealing (the reporter in clear in its input) is decoded through the codec as ops, then the identity is redacted, and the case still works', async () => {
  const raw = await rawHistory(oldCase);
  const decoded = await decodedHistory(raw);
  expect({ leaked: leaked(decoded.map((d) => d.text).join('\n'), needles) }).toEqual({ leaked: [] });

  const started = decoded.find((d) => d.path.includes('workflowExecutionStartedEventAttributes.input'))!;
  expect(started.json).toMatchObject({
    caseId: oldCase,
    intake: {
      title: complaint.title,
      reporter: {
        anonymous: false,
        consentToShareWithUnit: false,
        name: REDACTED_IDENTITY,
        phone: REDACTED_IDENTITY,
        email: REDACTED_IDENTITY,
        address: REDACTED_IDENTITY,
      },
    },
  });
  // Not vacuous: the same payload, opened with the payload ring alone (what the codec did before), shows the reporter.
  const [input] = await new EncryptionCodec(testKeyRing).decode([
    raw.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!.input!.payloads![0],
  ]);
  expect(leaked(Buffer.from(input.data!).toString('utf8'), needles)).toEqual(identityOf(oldShapeReporter));
  // The old-shape case still runs: it was accepted above, and its reporter reached the read model.
  const read = await api.request('GET', `/v1/complaints/${oldCase}`, { token: tokens.clerk });
  expect(read.body).toMatchObject({ status: 'handling', reporter: oldShapeReporter });
});

test('when the stored histories from before sealing are decoded through the codec, as stored (clear or encrypted) and encrypted by the payload codec, then the reporter is redacted in every payload', async () => {
  const dir = path.join(__dirname, 'histories');
  // The complaint histories (the supervision and reward ones carry no reporter: their workflows never see one).
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.binpb') && !f.startsWith('supervision-') && !f.startsWith('reward-'));
  expect(files.length).toBeGreaterThanOrEqual(14);
  const payloadCodec = new EncryptionCodec(testKeyRing);
  const forms = new Set<string>();
  for (const file of files) {
    const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(dir, file)));
    const stored = userPayloadsOf(history).map((f) => f.payload);
    forms.add(isEncrypted(stored[0]) ? 'encrypted' : 'clear');
    // Not vacuous: opened with the payload ring alone (what the codec did before), these histories show the reporter.
    const opened = await payloadCodec.decode(stored);
    const clear = opened.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'));
    expect({ file, inClear: leaked(clear.join('\n'), storedNeedles) }).toEqual({ file, inClear: storedNeedles });

    for (const [form, sent] of [
      ['as stored', stored],
      ['encrypted again', await payloadCodec.encode(opened)],
    ] as const) {
      const decoded = (await decodeAsOps([...sent])).map(readJsonPayload);
      const text = decoded.map((d) => d.text).join('\n');
      expect({ file, form, leaked: leaked(text, storedNeedles) }).toEqual({ file, form, leaked: [] });
      // Everything but the identity reads as it was recorded.
      const input = JSON.parse(decoded[0].text) as { intake: { title: string; reporter: object } };
      expect({ file, form, reporter: input.intake.reporter }).toEqual({
        file,
        form,
        reporter: { anonymous: false, name: REDACTED_IDENTITY, phone: REDACTED_IDENTITY, consentToShareWithUnit: false },
      });
      expect(input.intake.title).toBe((JSON.parse(clear[0]) as { intake: { title: string } }).intake.title);
    }
  }
  // Both kinds of history from before: recorded without a codec, and encrypted by the payload codec.
  expect([...forms].sort()).toEqual(['clear', 'encrypted']);
});

test('when anyone but ops calls the codec as in production, then no token gets 401 and every other role 403, with nothing decoded', async () => {
  const raw = await rawHistory(oldCase);
  const body = { payloads: userPayloadsOf(raw).map((f) => payloadToJson(f.payload)) };
  const none = await api.request('POST', '/codec/decode', { headers, body });
  expect(none.status).toBe(401);
  for (const who of ['clerk', 'unit', 'supervisor', 'inspector', 'analyst', 'admin']) {
    const res = await api.request('POST', '/codec/decode', { token: tokens[who], headers, body });
    expect({ who, status: res.status, payloads: res.body?.payloads }).toEqual({ who, status: 403, payloads: undefined });
  }
});
