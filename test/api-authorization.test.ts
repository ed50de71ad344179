import { SignJWT } from 'jose';
import { AUDIENCE, ISSUER, type Principal } from '../api/auth';
import { allRoutes } from '../api/routes';
import { complaintRouteTable } from '../api/routes/complaints';
import { publicRouteTable } from '../api/routes/public';
import type { RouteSpec } from '../api/validate';
import { workflowIdFor } from '../domain/case';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { ApiHarness } from './support/api-harness';
import { samplePath } from './support/route-samples';

/**
 * The role-by-endpoint matrix, from every route table the router mounts: every endpoint refuses
 * every role and every scope it must refuse, and changes nothing when it does.
 *
 * The rule: 401 without a valid token; 403 for a role that may never take the action (answered
 * before the case is looked up, so it reveals nothing); 404 for a case outside the principal's
 * scope (a unit: the cases assigned to it; a supervisor: the divisions it covers), for reads and
 * actions alike, exactly as for a case that does not exist.
 *
 * The allowed principals are checked too, so that a refusal is known to come from authorization:
 * on the complaint routes they get past it and are stopped by the workflow (409), since each case is
 * in a state where the decision is impossible; on the other tables they get past it to the read
 * (200, or 404 for a sample id that does not exist, or 400 for a required query) or to validation
 * (400: they send a body that is no object, so nothing is done).
 *
 * Open311's POST is authorized by the client's api_key, not by a role: test/open311.test.ts checks it.
 */

const routes: RouteSpec[] = allRoutes().filter((r) => r.access !== 'apiKey');
/** The complaint and public routes, whose allowed requests are checked against the cases set up here. */
const caseRoutes = new Set<RouteSpec>([...complaintRouteTable, ...publicRouteTable]);

const DIVISION = '370102';
const UNIT = 'unit-a';
const principals = {
  clerk: { sub: 'clerk-1', role: 'clerk' },
  /** A clerk who owns none of the cases here (the clerk above registers them all). */
  clerkOther: { sub: 'clerk-2', role: 'clerk' },
  unitOwn: { sub: 'unit-a-user', role: 'unit', unitId: UNIT },
  unitOther: { sub: 'unit-b-user', role: 'unit', unitId: 'unit-b' },
  supervisorOwn: { sub: 'sup-jinan', role: 'supervisor', divisions: ['3701'] },
  supervisorOther: { sub: 'sup-qingdao', role: 'supervisor', divisions: ['3702'] },
  inspector: { sub: 'insp-1', role: 'inspector' },
  analyst: { sub: 'analyst-1', role: 'analyst' },
  ops: { sub: 'ops-1', role: 'ops' },
  admin: { sub: 'admin-1', role: 'admin' },
  /** A unit token naming no unit of the unit directory: refused (403) wherever a token is needed. */
  unitUnknown: { sub: 'ghost-user', role: 'unit', unitId: 'unit-ghost' },
} satisfies Record<string, Principal>;
type Who = keyof typeof principals;
const everyone = Object.keys(principals) as Who[];

/** The scope rule, stated here on its own (not through api/auth.ts), for a case of UNIT in DIVISION. */
function inScope(p: Principal): boolean {
  if (p.role === 'unit') return p.unitId === UNIT;
  if (p.role === 'supervisor') return (p.divisions ?? []).some((d) => DIVISION.startsWith(d));
  return true;
}

function expected(r: RouteSpec, who: Who): 'allowed' | 403 | 404 {
  if (r.access === 'public' || r.access === 'apiKey') return 'allowed';
  const p = principals[who];
  if (!r.access.includes(p.role) || who === 'unitUnknown') return 403;
  if (r.caseScoped && !inScope(p)) return 404;
  // The result of a case is reviewed by the clerk who owns it, or by a supervisor.
  if (r.operationId === 'reviewResult' && p.role === 'clerk' && p.sub !== principals.clerk.sub) return 403;
  return 'allowed';
}

/** A valid body for each decision: what would change the case if it were let through. */
const bodies: Record<string, unknown> = {
  supplement: { note: 'the complainant called back' },
  accept: { unitId: 'unit-c' },
  forward: { competentBody: 'Labour inspection bureau', reason: 'not pollution' },
  transfer: { unitId: UNIT, reason: 'stays with the same unit' },
  'extension-request': { amount: 5, reason: 'samples' },
  'extension-decision': { decision: 'approved', reason: 'fine' },
  result: { summary: 'done', reply: 'done' },
  review: { decision: 'approved' },
  callback: { outcome: 'satisfied' },
  'review-request': { reason: 'not satisfied' },
  'review-decision': { decision: 'upheld', reason: 'handled well' },
  escalation: { reason: 'drags on' },
  reopen: { reason: 'spot check failed', source: 'spot_check' },
  decline: { reason: 'not our district' },
  unlink: { reason: 'not the same pollution' },
};

const complaint = {
  channel: 'web',
  category: 'air',
  divisionCode: DIVISION,
  title: 'Boiler smoke',
  description: 'Black smoke from the boiler house every morning.',
  reporter: { anonymous: false, name: 'Liu Yang', phone: '13700000000' },
};

let api: ApiHarness;
const tokens = {} as Record<Who, string>;
/** underReview: with UNIT, result submitted, escalated to the top level. handling: with UNIT. */
const cases = { underReview: '', handling: '' };

async function as(who: Who, method: string, path: string, body?: unknown) {
  return api.request(method, path, { token: tokens[who], body });
}

/** Everything a refused request could have changed. */
async function snapshot() {
  const history = async (caseId: string) => (await api.client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory()).events?.length;
  const q = async (sql: string) => (await api.db.pool.query(sql)).rows;
  return {
    histories: [await history(cases.underReview), await history(cases.handling)],
    rows: await q(`SELECT case_id, status, unit_id, escalation_level, last_seq, view FROM cases ORDER BY case_id`),
    events: await q(`SELECT count(*) AS n FROM case_events`),
    intake: await q(`SELECT count(*) AS n FROM intake_requests`),
    numbers: await q(`SELECT last_value FROM case_number_seq`),
    units: await q(`SELECT unit_id, name, active, updated_at FROM units ORDER BY unit_id`),
    unitEvents: await q(`SELECT count(*) AS n FROM unit_events`),
  };
}

/** Let the workflows finish their last task: the same snapshot twice in a row. */
async function settled() {
  let previous = JSON.stringify(await snapshot());
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const current = JSON.stringify(await snapshot());
    if (current === previous) return JSON.parse(current);
    previous = current;
  }
}

beforeAll(async () => {
  api = await ApiHarness.create('api-authz');
  for (const who of everyone) tokens[who] = await api.token(principals[who]);
  const register = async (title: string) => {
    const res = await as('clerk', 'POST', '/v1/complaints', { ...complaint, title });
    const id: string = res.body.caseId;
    await api.eventually(`/v1/complaints/${id}`, tokens.clerk, (b) => b.status === 'pending_acceptance');
    expect((await as('clerk', 'POST', `/v1/complaints/${id}/accept`, { unitId: UNIT })).status).toBe(200);
    return id;
  };
  cases.underReview = await register('Boiler smoke A');
  expect((await as('unitOwn', 'POST', `/v1/complaints/${cases.underReview}/result`, { summary: 's', reply: 'r' })).status).toBe(200);
  expect((await as('supervisorOwn', 'POST', `/v1/complaints/${cases.underReview}/escalation`, { reason: 'r', level: 3 })).status).toBe(200);
  cases.handling = await register('Boiler smoke B');
});
afterAll(async () => {
  await api?.teardown();
});

/**
 * Method, path and body of one route: a complaint route on the case where its decision is
 * impossible; another table's with a sample path, and a body that is no object (400 once authorized).
 */
function requestFor(r: RouteSpec): { path: string; body?: unknown } {
  if (!caseRoutes.has(r)) return { path: samplePath(r, { caseId: cases.underReview }), body: r.method === 'post' ? [] : undefined };
  const decision = r.path.match(/\{caseId\}\/([\w-]+)$/)?.[1];
  const caseId = decision === 'review' ? cases.handling : cases.underReview;
  const path = r.path.replace('{caseId}', caseId);
  if (decision) return { path, body: bodies[decision] };
  if (r.operationId === 'registerComplaint') return { path, body: complaint };
  return { path };
}

/** What an allowed request answers: past authorization, stopped by the workflow, the read or validation. */
function allowedAnswers(r: RouteSpec): number[] {
  if (!caseRoutes.has(r)) return r.method === 'get' ? [200, 400, 404] : [400];
  return [r.method === 'get' ? 200 : r.operationId === 'registerComplaint' ? 400 : 409];
}

describe('the role-by-endpoint matrix', () => {
  test('when the table is read, then it has every decision of the lifecycle and a body for each', () => {
    const decisionPaths = complaintRouteTable.map((r) => r.path.match(/\{caseId\}\/([\w-]+)$/)?.[1]).filter(Boolean);
    expect(decisionPaths.sort()).toEqual(Object.keys(bodies).sort());
  });

  const cells = routes.flatMap((r) => everyone.map((who) => ({ r, who, outcome: expected(r, who) })));
  const refused = cells.filter((c) => c.outcome !== 'allowed');

  test(`when a role or scope must be refused (${refused.length} cells), then the answer is 403 or 404 and nothing changed`, async () => {
    const before = await settled();
    const wrong: string[] = [];
    for (const { r, who, outcome } of refused) {
      const { path, body } = requestFor(r);
      const res = await as(who, r.method.toUpperCase(), path, body);
      if (res.status !== outcome || !res.headers.get('content-type')?.startsWith('application/problem+json')) {
        wrong.push(`${r.method.toUpperCase()} ${r.path} as ${who}: expected ${outcome}, got ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(await settled()).toEqual(before);
  });

  test('when the role and scope are allowed, then authorization lets the request through to the workflow or the read', async () => {
    const wrong: string[] = [];
    for (const { r, who } of cells.filter((c) => c.outcome === 'allowed')) {
      const { path, body } = requestFor(r);
      // Registration is let through to validation only: an allowed clerk with an empty body gets 400.
      const res = await as(who, r.method.toUpperCase(), path, r.operationId === 'registerComplaint' ? {} : body);
      const want = allowedAnswers(r);
      if (!want.includes(res.status)) {
        wrong.push(`${r.method.toUpperCase()} ${r.path} as ${who}: expected ${want.join(' or ')}, got ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('when a case is outside the scope, then its 404 is the same as for a case that does not exist', async () => {
    const hidden = await as('unitOther', 'GET', `/v1/complaints/${cases.handling}`);
    const missing = await as('unitOther', 'GET', `/v1/complaints/EC-2000-0000001`);
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect({ ...hidden.body, detail: undefined, instance: undefined }).toEqual({ ...missing.body, detail: undefined, instance: undefined });
    expect(hidden.body.detail).toBe(`No case ${cases.handling}.`);
  });

  test('when a unit or supervisor filters the list outside its scope, then 403; within it, only its own cases', async () => {
    expect((await as('unitOther', 'GET', `/v1/complaints?unit=${UNIT}`)).status).toBe(403);
    expect((await as('supervisorOther', 'GET', `/v1/complaints?division=3701`)).status).toBe(403);
    const otherUnit = await as('unitOther', 'GET', '/v1/complaints');
    expect(otherUnit.body.total).toBe(0);
    const otherSupervisor = await as('supervisorOther', 'GET', '/v1/complaints');
    expect(otherSupervisor.body.total).toBe(0);
    const ownSupervisor = await as('supervisorOwn', 'GET', '/v1/complaints?division=37');
    expect(ownSupervisor.body.total).toBe(2);
  });
});

describe('tokens', () => {
  const key = new TextEncoder().encode(DEVELOPMENT_JWT_SECRET);
  const now = Math.floor(Date.now() / 1000);
  const jwt = (claims: Record<string, unknown>, opts: { iss?: string; aud?: string; exp?: number; secret?: Uint8Array } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('clerk-1')
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt(now - 60)
      .setExpirationTime(opts.exp ?? now + 3600)
      .sign(opts.secret ?? key);
  const unsigned = (claims: Record<string, unknown>) =>
    [
      { alg: 'none', typ: 'JWT' },
      { sub: 'clerk-1', iss: ISSUER, aud: AUDIENCE, exp: now + 3600, ...claims },
    ]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .join('.') + '.';

  test('when a token is missing, expired, badly signed, for another audience or issuer, unsigned or with bad claims, then every route answers 401 and nothing changed', async () => {
    const bad: Record<string, string | undefined> = {
      missing: undefined,
      expired: await jwt({ role: 'clerk' }, { exp: now - 30 }),
      'wrong signature': await jwt({ role: 'clerk' }, { secret: new TextEncoder().encode('another-secret-that-is-long-enough-0123') }),
      'wrong audience': await jwt({ role: 'clerk' }, { aud: 'another-api' }),
      'wrong issuer': await jwt({ role: 'clerk' }, { iss: 'someone-else' }),
      'alg none': unsigned({ role: 'clerk' }),
      garbage: 'not.a.token',
      'unknown role': await jwt({ role: 'root' }),
      'unit without its unit': await jwt({ role: 'unit' }),
      'supervisor without divisions': await jwt({ role: 'supervisor' }),
    };
    const before = await settled();
    const wrong: string[] = [];
    for (const r of routes.filter((x) => x.access !== 'public' && x.access !== 'apiKey')) {
      const { path, body } = requestFor(r);
      for (const [what, token] of Object.entries(bad)) {
        const res = await api.request(r.method.toUpperCase(), path, { token, body });
        const ok =
          res.status === 401 && res.body?.status === 401 && /^Bearer realm="ecoloop"/.test(res.headers.get('www-authenticate') ?? '');
        if (!ok) wrong.push(`${r.method.toUpperCase()} ${r.path} with a ${what} token: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(await settled()).toEqual(before);
  });
});
