import http from 'node:http';
import type { AddressInfo } from 'node:net';
import querystring from 'node:querystring';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { AUDIENCE, ISSUER, type Principal } from '../api/auth';
import { caseParams } from '../api/fields';
import { allRoutes } from '../api/routes';
import type { RouteSpec } from '../api/validate';
import { workflowIdFor } from '../domain/case';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { ApiHarness } from './support/api-harness';
import { fillPath, pathParams, sampleParam } from './support/route-samples';

/**
 * Property-based: for every route of every table (api/routes/index.ts), thousands of malformed
 * requests in all (bad bodies, content types, oversized bodies, query strings, tokens,
 * Idempotency-Keys, path parameters). Every answer is a 4xx problem document (an Open311 error
 * list on the Open311 routes) without a stack trace; afterwards no workflow was started and
 * nothing was written.
 *
 * Each generated request is checked against an oracle that mirrors the API's checks from the
 * outside (token and role, scope, content type, the route's own schemas): requests that would be
 * entirely valid are not sent, so that every request sent has at least one thing wrong with it.
 */

/** Every route that can be sent something wrong: not the public ones that read no input at all (/health, /openapi.json). */
const routes: RouteSpec[] = allRoutes().filter((r) => r.access !== 'public' || r.params || r.query || r.headers || r.body);
const RUNS_PER_ROUTE = 150;
const BODY_LIMIT = 64 * 1024;
/** The codec reads history payloads, bigger than the API's bodies. */
const bodyLimitOf = (r: RouteSpec) => (r.path.startsWith('/codec/') ? 8 * 1024 * 1024 : BODY_LIMIT);
const FORM = 'application/x-www-form-urlencoded';

const principals = {
  clerk: { sub: 'clerk-1', role: 'clerk' },
  unit: { sub: 'unit-a-user', role: 'unit', unitId: 'unit-a' },
  otherUnit: { sub: 'unit-b-user', role: 'unit', unitId: 'unit-b' },
  supervisor: { sub: 'sup-1', role: 'supervisor', divisions: ['3701'] },
  otherSupervisor: { sub: 'sup-2', role: 'supervisor', divisions: ['44'] },
  inspector: { sub: 'insp-1', role: 'inspector' },
  analyst: { sub: 'analyst-1', role: 'analyst' },
  ops: { sub: 'ops-1', role: 'ops' },
  admin: { sub: 'admin-1', role: 'admin' },
} satisfies Record<string, Principal>;
type Who = keyof typeof principals;

const complaint = {
  channel: 'web',
  category: 'dust',
  divisionCode: '370102',
  title: 'Dust from the building site',
  description: 'Trucks leave the site uncovered.',
};
/** A valid body per POST route, to mutate. */
const validBodies: Record<string, Record<string, unknown>> = {
  registerComplaint: complaint,
  supplementComplaint: { note: 'called back' },
  acceptComplaint: { unitId: 'unit-a' },
  forwardComplaint: { competentBody: 'Housing bureau', reason: 'not ours' },
  transferComplaint: { unitId: 'unit-b', reason: 'their district' },
  requestExtension: { amount: 3, reason: 'lab' },
  decideExtension: { decision: 'approved', reason: 'ok' },
  submitResult: { summary: 's', reply: 'r' },
  reviewResult: { decision: 'returned', reason: 'incomplete' },
  recordCallback: { outcome: 'satisfied' },
  requestReview: { reason: 'unhappy' },
  decideReview: { decision: 'upheld', reason: 'fine' },
  escalateComplaint: { reason: 'slow' },
  reopenComplaint: { reason: 'recurred' },
  createUnit: { unitId: 'fuzz-unit', name: 'Fuzz bureau', divisionCode: '370102', parentUnitId: 'bureau-370100' },
  renameUnit: { name: 'Renamed bureau' },
  deactivateUnit: { reason: 'merged' },
  // Not a client's key: a fuzzed Open311 request is never registered, whatever else it carries.
  open311CreateRequest: { api_key: 'not-a-client-key', service_code: 'noise', jurisdiction_id: '370102', lat: '36.6', long: '117.0' },
};

let api: ApiHarness;
let port: number;
let agent: http.Agent;
let existingCase: string;
const tokens = {} as Record<Who, string>;
let expiredToken: string;

// ---- What the API should make of a request: the oracle ----

interface Fuzzed {
  /** Each path parameter's segment, percent-encoded. */
  segments: Record<string, string>;
  query: string;
  auth: { kind: 'none' } | { kind: 'token'; who: Who } | { kind: 'expired' } | { kind: 'raw'; header: string };
  contentType?: string;
  idempotencyKey?: string;
  body?: Buffer;
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function inScope(p: Principal): boolean {
  if (p.role === 'unit') return p.unitId === 'unit-a';
  if (p.role === 'supervisor') return (p.divisions ?? []).some((d) => '370102'.startsWith(d));
  return true;
}

function authOk(r: RouteSpec, f: Fuzzed): boolean {
  if (r.access === 'public') return true;
  if (r.access === 'apiKey') return false; // no fuzzed form carries a client's key
  if (f.auth.kind !== 'token') return false;
  const p: Principal = principals[f.auth.who];
  return r.access.includes(p.role) && (!r.caseScoped || inScope(p));
}

/** As express.json and requireJson read it: a JSON media type in UTF-8. */
function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  return type === 'application/json' && (charset === undefined || charset === 'utf-8');
}

function bodyOk(r: RouteSpec, f: Fuzzed): boolean {
  if (!r.body) return true; // a GET ignores any body
  if (r.requestType === FORM) return false; // its api_key is never a client's (authOk)
  let value: unknown = {};
  if (f.body && f.body.length > 0) {
    if (!isJsonType(f.contentType) || f.body.length > bodyLimitOf(r)) return false;
    try {
      value = JSON.parse(f.body.toString('utf8'));
    } catch {
      return false;
    }
    if (typeof value !== 'object' || value === null) return false;
  }
  return r.body.safeParse(value).success;
}

/** True when every part of the request is acceptable: such a request is not a fuzz case. */
function wouldBeValid(r: RouteSpec, f: Fuzzed): boolean {
  const values = Object.fromEntries(pathParams(r).map((name) => [name, decode(f.segments[name])]));
  // A case must be the one that exists (another is a 404); other parameters, valid by their schema.
  const caseOk = values.caseId === undefined || values.caseId === existingCase;
  const paramsOk = !r.params || (caseOk && Object.values(values).every((v) => v !== undefined) && r.params.safeParse(values).success);
  const queryOk = !r.query || r.query.safeParse(querystring.parse(f.query)).success;
  const headerOk = !r.headers || r.headers.safeParse(f.idempotencyKey === undefined ? {} : { 'idempotency-key': f.idempotencyKey }).success;
  return authOk(r, f) && paramsOk && queryOk && headerOk && bodyOk(r, f);
}

// ---- Generators ----

const ascii = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });

/** A path segment: the valid one (`EXISTING`: the existing case, or a sample valid by the schema), or a wrong one. */
function pathSegment(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('EXISTING') },
    { weight: 1, arbitrary: fc.constant('EC-2026-9999999') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('%E0%A4%A', '%', '%zz', 'EC-2026-000000%31', '..', '%2F', 'EC-2026-0000001%00', 'ec-2026-0000001'),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(encodeURIComponent) },
  );
}

function queryString(r: RouteSpec): fc.Arbitrary<string> {
  const known = Object.keys(r.query?.shape ?? {});
  const key = fc.oneof(fc.constantFrom(...known, '__proto__', 'constructor', 'page[0]', 'x'), ascii(12));
  const value = fc.oneof(
    fc.constantFrom(
      '',
      '-1',
      '0',
      '1e9',
      '999999999999',
      'true',
      'maybe',
      'handling,nonsense',
      '2026-13-45T00:00:00Z',
      '%E0%A4',
      '37',
      'abc',
    ),
    ascii(30).map(encodeURIComponent),
    fc.constant('x'.repeat(600)),
  );
  const pair = fc.tuple(key, value).map(([k, v]) => `${encodeURIComponent(k)}=${v}`);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    { weight: 4, arbitrary: fc.array(pair, { minLength: 1, maxLength: 4 }).map((pairs) => pairs.join('&')) },
    { weight: 1, arbitrary: fc.constantFrom('page=1&page=2', 'status=closed&status=handling', '&&&', '=', 'a=%', '%ZZ=1') },
  );
}

function body(r: RouteSpec): fc.Arbitrary<Buffer | undefined> {
  const valid = validBodies[r.operationId] ?? {};
  const keys = Object.keys(valid);
  const mutated = fc
    .tuple(fc.constantFrom(...(keys.length ? keys : ['x'])), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('drop', 'replace', 'add'))
    .map(([k, v, how]) => {
      const copy: Record<string, unknown> = { ...valid };
      if (how === 'drop') delete copy[k];
      else if (how === 'replace') copy[k] = v;
      else copy[`${k}_extra`] = v;
      return JSON.stringify(copy);
    });
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: mutated.map((s) => Buffer.from(s)) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((s) => Buffer.from(s)) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => Buffer.from(s)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('{', '{"a":', "{'a':1}", 'null', '[]', '"text"', '12', '{"__proto__":{"x":1}}').map((s) => Buffer.from(s)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.constant(Buffer.from(JSON.stringify({ ...valid, description: 'x'.repeat(BODY_LIMIT + 1024) }))) },
    {
      weight: r.requestType === FORM ? 4 : 0,
      arbitrary: mutated.map((s) => Buffer.from(new URLSearchParams(JSON.parse(s) as Record<string, string>).toString())),
    },
  );
}

function request(r: RouteSpec): fc.Arbitrary<Fuzzed> {
  const who = Object.keys(principals) as Who[];
  return fc
    .record({
      segments: fc.record(Object.fromEntries(pathParams(r).map((name) => [name, pathSegment()]))),
      query: queryString(r),
      auth: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...who).map((w) => ({ kind: 'token' as const, who: w })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
        { weight: 1, arbitrary: fc.constant({ kind: 'expired' as const }) },
        { weight: 1, arbitrary: ascii(60).map((s) => ({ kind: 'raw' as const, header: s.trim() ? s : 'Bearer' })) },
      ),
      contentType: fc.oneof(
        { weight: 4, arbitrary: fc.constant('application/json') },
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            undefined,
            'APPLICATION/JSON',
            'application/json; charset=utf-16',
            'application/json; charset=latin1',
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=xyz',
            'application/xml',
            'application/merge-patch+json',
            '*/*',
            ';;;',
          ),
        },
        { weight: 1, arbitrary: ascii(30).map((s) => `x-${s}`) },
      ),
      idempotencyKey: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('short', 'has a space in it', 'k'.repeat(201), 'valid-key-12345') },
        { weight: 1, arbitrary: ascii(40) },
      ),
      body: r.method === 'post' ? body(r) : fc.constant(undefined),
    })
    .map((f) => {
      const valid = (name: string) => encodeURIComponent(sampleParam(r, name, { caseId: existingCase }));
      const segments = Object.fromEntries(Object.entries(f.segments).map(([name, v]) => [name, v === 'EXISTING' ? valid(name) : v]));
      return { ...f, segments };
    })
    .filter((f) => !wouldBeValid(r, f));
}

// ---- Sending ----

function headersOf(f: Fuzzed): Record<string, string> {
  const headers: Record<string, string> = {};
  if (f.auth.kind === 'token') headers.authorization = `Bearer ${tokens[f.auth.who]}`;
  if (f.auth.kind === 'expired') headers.authorization = `Bearer ${expiredToken}`;
  if (f.auth.kind === 'raw') headers.authorization = f.auth.header;
  if (f.contentType !== undefined) headers['content-type'] = f.contentType;
  if (f.idempotencyKey !== undefined) headers['idempotency-key'] = f.idempotencyKey;
  return headers;
}

function send(method: string, path: string, headers: Record<string, string>, payload?: Buffer) {
  return new Promise<{ status: number; contentType: string; text: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          contentType: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function sendFuzzed(r: RouteSpec, f: Fuzzed) {
  const path = fillPath(r, f.segments) + (f.query ? `?${f.query}` : '');
  try {
    return await send(r.method.toUpperCase(), path, headersOf(f), f.body);
  } catch (err) {
    // The server may answer 413/415 and close before it read a big body: the client then sees a reset.
    if (['ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

// ---- State ----

async function workflowsOnQueue(): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of api.client.workflow.list({ query: `TaskQueue = '${api.taskQueue}'` })) ids.push(wf.workflowId);
  return ids.sort();
}

/** What is written, once the workflows finished their last task: the same twice in a row. */
async function settled() {
  let previous = JSON.stringify(await written());
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const current = JSON.stringify(await written());
    if (current === previous) return JSON.parse(current);
    previous = current;
  }
}

async function written() {
  const { rows } = await api.db.pool.query(
    `SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS events,
            (SELECT count(*) FROM intake_requests) AS intake, (SELECT count(*) FROM case_reporters) AS reporters,
            (SELECT last_value FROM case_number_seq) AS number, (SELECT max(last_seq) FROM cases) AS seq,
            (SELECT count(*) FROM units) AS units, (SELECT count(*) FROM units WHERE active) AS active_units,
            (SELECT count(*) FROM unit_events) AS unit_events`,
  );
  const history = (await api.client.workflow.getHandle(workflowIdFor(existingCase)).fetchHistory()).events?.length;
  return { ...rows[0], history };
}

beforeAll(async () => {
  // Open311's rate limit (300 a minute by default) would answer most of its fuzzed requests with 429.
  const limit = process.env.OPEN311_RATE_LIMIT_PER_MINUTE;
  process.env.OPEN311_RATE_LIMIT_PER_MINUTE = '1000000';
  api = await ApiHarness.create('api-fuzz');
  if (limit === undefined) delete process.env.OPEN311_RATE_LIMIT_PER_MINUTE;
  else process.env.OPEN311_RATE_LIMIT_PER_MINUTE = limit;
  port = (api.server.address() as AddressInfo).port;
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (const [who, p] of Object.entries(principals)) tokens[who as Who] = await api.token(p);
  const now = Math.floor(Date.now() / 1000);
  expiredToken = await new SignJWT({ role: 'clerk' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('clerk-1')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now - 7200)
    .setExpirationTime(now - 3600)
    .sign(new TextEncoder().encode(DEVELOPMENT_JWT_SECRET));
  const created = await api.request('POST', '/v1/complaints', { token: tokens.clerk, body: complaint });
  existingCase = created.body.caseId;
  expect(caseParams.safeParse({ caseId: existingCase }).success).toBe(true);
  await api.eventually(`/v1/complaints/${existingCase}`, tokens.clerk, (b) => b.status === 'pending_acceptance');
  // Visibility is eventually consistent: wait until the one workflow shows on the queue.
  for (let i = 0; i < 100 && (await workflowsOnQueue()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
});
afterAll(async () => {
  agent?.destroy();
  await api?.teardown();
});

describe('fuzzing every route with malformed requests', () => {
  test(`when ${RUNS_PER_ROUTE} malformed requests per route are sent (${routes.length} routes), then every answer is a 4xx problem without a stack trace, and nothing is started or written`, async () => {
    const before = await settled();
    const queueBefore = await workflowsOnQueue();
    expect(queueBefore).toEqual([workflowIdFor(existingCase)]);
    const statuses = new Map<number, number>();

    for (const r of routes) {
      await fc.assert(
        fc.asyncProperty(request(r), async (f) => {
          const res = await sendFuzzed(r, f);
          if (!res) return; // reset while sending an oversized or refused body: nothing was processed
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect({ route: `${r.method} ${r.path}`, status: res.status >= 400 && res.status < 500 ? '4xx' : res.status }).toEqual({
            route: `${r.method} ${r.path}`,
            status: '4xx',
          });
          if (r.errorFormat && /^text\/xml/.test(res.contentType)) {
            expect(res.text).toContain(`<errors><error><code>${res.status}</code>`);
          } else if (r.errorFormat) {
            expect(res.contentType).toMatch(/^application\/json/);
            const errors = JSON.parse(res.text);
            expect(errors[0]).toEqual({ code: String(res.status), description: expect.any(String) });
          } else {
            expect(res.contentType).toMatch(/^application\/problem\+json/);
            const problem = JSON.parse(res.text);
            expect(problem.status).toBe(res.status);
          }
          expect(res.text).not.toMatch(/\bat [^"]*\.(ts|js):\d+|node_modules|\\n\s+at /);
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    }

    // Every kind of refusal was exercised.
    for (const status of [400, 401, 403, 404, 413, 415])
      expect({ status, seen: (statuses.get(status) ?? 0) > 0 }).toEqual({ status, seen: true });
    expect(await settled()).toEqual(before);
    expect(await workflowsOnQueue()).toEqual(queueBefore);
    // Some 11,000 requests, one at a time: more than the default test timeout on a busy machine.
  }, 600_000);
});
