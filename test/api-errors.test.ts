import { Client, Connection, ServiceError } from '@temporalio/client';
import { mintToken } from '../api/auth';
import { toProblem } from '../api/problem';
import { createPool, type Pool } from '../db/pool';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import pino from 'pino';
import { createLogger, type Logger } from '../runtime/logger';
import { startInProcessApi } from './support/api';
import { ApiHarness } from './support/api-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import { testDataConverter, testKeyRing } from './support/temporal';

/**
 * Every failure is an RFC 9457 problem document with the right status: 400 with the zod field
 * paths, 413, 415, 404, 405, and 503 when Temporal or PostgreSQL is away, which then changes nothing.
 */

let api: ApiHarness;
let clerk: string;
beforeAll(async () => {
  api = await ApiHarness.create('api-errors');
  clerk = await api.token({ sub: 'clerk-1', role: 'clerk' });
});
afterAll(async () => {
  await api?.teardown();
});

const complaint = {
  channel: 'web',
  category: 'noise',
  divisionCode: '370102',
  title: 'Karaoke bar at night',
  description: 'Loud music until 3 am.',
};

function expectProblem(res: { status: number; body: any; headers: Headers }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), type: expect.stringMatching(/^https:\/\//) });
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+|node_modules/);
}

async function rowCounts(pool: Pool) {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS events,
            (SELECT count(*) FROM intake_requests) AS intake, (SELECT last_value FROM case_number_seq) AS number,
            (SELECT is_called FROM case_number_seq) AS used`,
  );
  return rows[0];
}

describe('problem documents for bad input', () => {
  test('when the body has several invalid fields, then 400 lists each with where it is and its zod field path', async () => {
    const res = await api.request('POST', '/v1/complaints?x=1', {
      token: clerk,
      body: { ...complaint, divisionCode: '37', location: { lat: 200 }, extra: true },
      headers: { 'idempotency-key': 'short' },
    });
    expectProblem(res, 400);
    const found = res.body.errors.map((e: { in: string; path: string }) => `${e.in}:${e.path}`);
    expect(found).toEqual(expect.arrayContaining(['header:idempotency-key', 'body:divisionCode', 'body:location.lat', 'body:']));
    expect(res.body.errors.find((e: { path: string }) => e.path === 'location.lat').message).toMatch(/90/);
  });

  test('when a query has an unknown or invalid parameter, then 400 names it', async () => {
    const res = await api.request('GET', '/v1/complaints?status=handling,nonsense&pageSize=1000&stauts=closed', { token: clerk });
    expectProblem(res, 400);
    const paths = res.body.errors.map((e: { in: string; path: string }) => `${e.in}:${e.path}`);
    expect(paths).toEqual(expect.arrayContaining(['query:status.1', 'query:pageSize', 'query:']));
  });

  test('when the body is not JSON, then 415; when it is broken JSON, then 400; and nothing is registered', async () => {
    const before = await rowCounts(api.db.pool);
    const asText = await api.request('POST', '/v1/complaints', {
      token: clerk,
      body: JSON.stringify(complaint),
      headers: { 'content-type': 'text/plain' },
    });
    expectProblem(asText, 415);
    const asForm = await api.request('POST', '/v1/complaints', {
      token: clerk,
      body: 'channel=web&category=noise',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(asForm, 415);
    const broken = await api.request('POST', '/v1/complaints', { token: clerk, body: '{"channel": "web",' });
    expectProblem(broken, 400);
    const latin1 = await api.request('POST', '/v1/complaints', {
      token: clerk,
      body: JSON.stringify(complaint),
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
    expectProblem(latin1, 415);
    expect(await rowCounts(api.db.pool)).toEqual(before);
  });

  test('when a text field holds a NUL, another control character or a lone surrogate, then 400 names the field, and nothing is registered', async () => {
    const before = await rowCounts(api.db.pool);
    for (const [field, value] of [
      ['title', 'Smoke\u0000'],
      ['description', 'Black smoke\u001b[0m'],
      ['title', 'Smoke \ud800'],
    ]) {
      const res = await api.request('POST', '/v1/complaints', { token: clerk, body: { ...complaint, [field]: value } });
      expectProblem(res, 400);
      expect(res.body.errors).toEqual([expect.objectContaining({ in: 'body', path: field })]);
    }
    expect(await rowCounts(api.db.pool)).toEqual(before);
  });

  test('when the body is over the limit, then 413', async () => {
    const res = await api.request('POST', '/v1/complaints', { token: clerk, body: { ...complaint, description: 'x'.repeat(100_000) } });
    expectProblem(res, 413);
  });

  test('when a path is unknown, then 404; when a known path is called with another method, then 405 with Allow', async () => {
    expectProblem(await api.request('GET', '/v1/nothing-here', { token: clerk }), 404);
    const wrongMethod = await api.request('DELETE', '/v1/complaints', { token: clerk });
    expectProblem(wrongMethod, 405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET, HEAD');
    expectProblem(await api.request('GET', '/v1/complaints/EC-2026-0000001/accept', { token: clerk }), 405);
  });

  test('when a path parameter is not valid percent-encoding, then 400, not 500', async () => {
    expectProblem(await api.request('GET', '/v1/complaints/%E0%A4%A', { token: clerk }), 400);
  });

  test('when any answer is sent, then it carries the helmet headers and no X-Powered-By', async () => {
    const res = await api.request('GET', '/v1/complaints', { token: clerk });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});

describe('how Temporal errors map to problems', () => {
  const grpc = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

  test('when the server aborts an update because the workflow is not ready (its task failed), then 503: nothing was applied, a retry is safe', () => {
    const aborted = new ServiceError('Failed to update workflow', { cause: grpc(9, 'Workflow is not ready to handle the request.') });
    expect(toProblem(aborted)).toMatchObject({ status: 503, extra: { retryAfter: 5 } });
  });

  test('when a query is cancelled on the way (CANCELLED, seen while PostgreSQL was down and workers retried), then 503', () => {
    expect(toProblem(new ServiceError('Failed to query Workflow', { cause: grpc(1, 'Call cancelled') })).status).toBe(503);
  });

  test('when the server refuses for another precondition, then it is not mistaken for an outage', () => {
    const other = new ServiceError('Failed to update workflow', { cause: grpc(9, 'Namespace is not active.') });
    expect(toProblem(other).status).toBe(500);
  });
});

describe('503 when a backing service is away', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function appWith(parts: { connection: Connection; pool: Pool; publicRateLimitPerMinute?: number; log?: Logger }) {
    const api = await startInProcessApi({
      client: new Client({ connection: parts.connection, dataConverter: testDataConverter }),
      connection: parts.connection,
      pool: parts.pool,
      taskQueue: 'nowhere',
      log: parts.log ?? createLogger('silent', 'api-test'),
      keyRing: testKeyRing,
      limits: { publicRateLimitPerMinute: parts.publicRateLimitPerMinute ?? 100, temporalTimeoutMs: 300 },
    });
    return { url: api.baseUrl, close: () => api.stop() };
  }

  async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'clerk-1', role: 'clerk' })}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  }

  test('when Temporal does not answer, then registering answers 503 with Retry-After, no case number, key or row is taken, and the log says so in a warning, not as an unexpected error', async () => {
    // Nothing listens on port 1: the connection is refused, as when the Temporal frontend is down.
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const logged: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const app = await appWith({ connection, pool: db.pool, log });
    try {
      const before = await rowCounts(db.pool);
      const plain = await call(app.url, 'POST', '/v1/complaints', complaint);
      expectProblem(plain, 503);
      expect(plain.headers.get('retry-after')).toBe('5');
      const keyed = await call(app.url, 'POST', '/v1/complaints', complaint, { 'idempotency-key': 'outage-retry-0001' });
      expectProblem(keyed, 503);
      expect(await rowCounts(db.pool)).toEqual(before);

      // A case the read model does not know must be asked of Temporal: 503, not a misleading 404.
      expectProblem(await call(app.url, 'GET', '/v1/complaints/EC-2026-0000009'), 503);
      expect(logged.map((l) => [l.level, l.msg])).toEqual([
        [40, 'service unavailable: answered 503'],
        [40, 'service unavailable: answered 503'],
        [40, 'service unavailable: answered 503'],
      ]);
    } finally {
      await app.close();
      await connection.close();
    }
  });

  test('when the public feed is asked too often from one address, then 429 with Retry-After, as a problem document', async () => {
    const app = await appWith({ connection: api.connection, pool: db.pool, publicRateLimitPerMinute: 2 });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 3; i++) {
        last = await fetch(`${app.url}/v1/public/cases`);
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      expectProblem({ status: last!.status, body: await last!.json(), headers: last!.headers }, 429);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  test('when PostgreSQL does not answer, then reads answer 503', async () => {
    const pool = createPool('postgres://nobody:nothing@127.0.0.1:1/none', { connectionTimeoutMillis: 1_000 });
    const app = await appWith({ connection: api.connection, pool });
    try {
      const res = await call(app.url, 'GET', '/v1/complaints');
      expectProblem(res, 503);
      expect(res.body.detail).toMatch(/database/);
    } finally {
      await app.close();
      await pool.end();
    }
  });
});
