import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { mintToken } from '../api/auth';
import { enqueueOutbox } from '../db/outbox';
import { DEVELOPMENT_JWT_SECRET } from '../runtime/config';
import { createPool } from '../db/pool';
import { createLogger } from '../runtime/logger';
import { workerMetrics } from '../worker/metrics';
import { startInProcessApi, type InProcessApi } from './support/api';
import { createTestDatabase, type TestDatabase } from './support/database';
import { seedCase } from './support/governance-fixtures';
import { freePort } from './support/ports';
import { parseExposition, sample, valueOf, type MetricFamily } from './support/prometheus';
import { testDataConverter, uniqueTaskQueue } from './support/temporal';

/**
 * Metrics as Prometheus reads them, parsed by a Prometheus text-format parser: the API's
 * `GET /metrics` (prom-client) counts the requests made here under their route templates; the real
 * worker process (`worker/main.ts`, as `npm run worker` runs it) serves the Temporal SDK's own
 * `temporal_` metrics from its Runtime, and EcoLoop's gauges equal to a known set of cases and
 * outbox messages written into a fresh database.
 */

const root = path.resolve(__dirname, '..');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let db: TestDatabase;
let connection: Connection;
let client: Client;
const taskQueue = uniqueTaskQueue('metrics');

beforeAll(async () => {
  db = await createTestDatabase();
  connection = await Connection.connect({ address: process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS! });
  client = new Client({ connection, dataConverter: testDataConverter });
});
afterAll(async () => {
  await connection?.close();
  await db?.drop();
});

async function scrape(url: string, init: RequestInit = {}): Promise<MetricFamily[]> {
  const res = await fetch(url, init);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

describe('the API: GET /metrics', () => {
  let api: InProcessApi;
  beforeAll(async () => {
    api = await startInProcessApi({ client, connection, pool: db.pool, taskQueue });
  });
  afterAll(() => api?.stop());

  test('when requests were made, then each is counted and timed under its route template, method and status; an unknown path as one label', async () => {
    const clerk = await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'clerk-1', role: 'clerk' });
    const junk = randomBytes(6).toString('hex');
    expect((await fetch(`${api.baseUrl}/health`)).status).toBe(200);
    expect((await fetch(`${api.baseUrl}/health`)).status).toBe(200);
    expect((await fetch(`${api.baseUrl}/v1/complaints/EC-2026-0000001`)).status).toBe(401);
    const unknownCase = await fetch(`${api.baseUrl}/v1/complaints/EC-2026-0000002`, { headers: { Authorization: `Bearer ${clerk}` } });
    expect(unknownCase.status).toBe(404);
    expect((await fetch(`${api.baseUrl}/no/such/${junk}`)).status).toBe(404);
    expect((await fetch(`${api.baseUrl}/also/not/${junk}`, { method: 'POST' })).status).toBe(404);

    const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
    const families = parseExposition(text);
    const counted = (route: string, method: string, status: string) => valueOf(families, 'http_requests_total', { route, method, status });
    expect({
      health: counted('/health', 'GET', '200'),
      withoutToken: counted('/v1/complaints/{caseId}', 'GET', '401'),
      unknownCase: counted('/v1/complaints/{caseId}', 'GET', '404'),
      unknownPathGet: counted('unmatched', 'GET', '404'),
      unknownPathPost: counted('unmatched', 'POST', '404'),
    }).toEqual({ health: 2, withoutToken: 1, unknownCase: 1, unknownPathGet: 1, unknownPathPost: 1 });
    // The raw URL is never a label: no case number, no path a client made up.
    expect(text).not.toContain(junk);
    expect(text).not.toContain('EC-2026-0000002');

    const latency = sample(families, 'http_request_duration_seconds', { route: '/health', method: 'GET', status: '200' });
    expect(families.find((f) => f.name === 'http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(Number(latency?.count)).toBe(2);
    expect(Number(latency?.buckets?.['+Inf'])).toBe(2);
    expect(Number(latency?.sum)).toBeGreaterThan(0);
    // Node's process metrics come along.
    expect(valueOf(families, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // The scrape itself is counted by the next one, under the route of the table.
    const again = await scrape(`${api.baseUrl}/metrics`);
    expect(valueOf(again, 'http_requests_total', { route: '/metrics', method: 'GET', status: '200' })).toBe(1);
  });

  test('when METRICS_TOKEN is set, then /metrics answers only its bearer; in production without one, it is refused', async () => {
    const token = randomBytes(16).toString('hex');
    const guarded = await startInProcessApi({ client, connection, pool: db.pool, taskQueue, metricsAccess: { token, production: true } });
    const closed = await startInProcessApi({ client, connection, pool: db.pool, taskQueue, metricsAccess: { production: true } });
    try {
      const ops = await mintToken(DEVELOPMENT_JWT_SECRET, { sub: 'ops-1', role: 'ops' });
      const statusOf = async (base: string, authorization?: string) =>
        (await fetch(`${base}/metrics`, authorization ? { headers: { Authorization: authorization } } : {})).status;
      expect({
        none: await statusOf(guarded.baseUrl),
        wrong: await statusOf(guarded.baseUrl, `Bearer ${token.slice(1)}x`),
        aJwt: await statusOf(guarded.baseUrl, `Bearer ${ops}`),
        right: await statusOf(guarded.baseUrl, `Bearer ${token}`),
        productionWithoutToken: await statusOf(closed.baseUrl, `Bearer ${ops}`),
      }).toEqual({ none: 401, wrong: 401, aJwt: 401, right: 200, productionWithoutToken: 403 });
    } finally {
      await guarded.stop();
      await closed.stop();
    }
  });
});

describe('the worker: the Temporal SDK metrics and the EcoLoop gauges', () => {
  let worker: ChildProcess;
  let exited: Promise<number | null>;
  const output: string[] = [];
  let gaugesUrl: string;
  let sdkUrl: string;
  const caseIds: Record<string, string> = {};

  /**
   * The known set: open cases in three statuses, four overdue (past their deadline) at levels
   * 0, 1, 2 and 2, finished cases that count nowhere (a closed one past its deadline included),
   * and three outbox messages, one delivered, the oldest undelivered one an hour old.
   */
  async function seedKnownSet(): Promise<void> {
    const now = Date.now();
    const seed = async (key: string, status: string, deadlineAt: number | null, escalationLevel = 0) => {
      caseIds[key] = await seedCase(db.pool, {
        status,
        receivedAt: now - 20 * DAY,
        deadlineAt,
        closedAt: status === 'closed' ? now - DAY : null,
      });
      if (escalationLevel)
        await db.pool.query('UPDATE cases SET escalation_level = $2 WHERE case_id = $1', [caseIds[key], escalationLevel]);
    };
    await seed('pendingOverdue', 'pending_acceptance', now - HOUR, 0);
    await seed('pending', 'pending_acceptance', now + DAY);
    await seed('handlingLevel1', 'handling', now - DAY, 1);
    await seed('handlingLevel2', 'handling', now - 2 * DAY, 2);
    await seed('handling', 'handling', now + 5 * DAY);
    await seed('callbackLevel2', 'callback', now - HOUR, 2);
    await seed('closed', 'closed', now - 3 * DAY, 3);
    await seed('archived', 'archived', null);
    for (const [i, caseId] of [caseIds.handling, caseIds.pending, caseIds.closed].entries()) {
      await enqueueOutbox(db.pool, {
        idempotencyKey: `metrics-test-${i}`,
        caseId,
        eventSeq: 1,
        eventType: 'accepted',
        recipient: 'owner',
        payload: {},
      });
    }
    // Waiting for a later attempt (the worker's sender must not deliver them during the test), the
    // first an hour old; the third delivered.
    await db.pool.query(`UPDATE outbox SET next_attempt_at = now() + interval '1 day'`);
    await db.pool.query(`UPDATE outbox SET created_at = now() - interval '1 hour' WHERE idempotency_key = 'metrics-test-0'`);
    await db.pool.query(`UPDATE outbox SET delivered_at = now() WHERE idempotency_key = 'metrics-test-2'`);
  }

  async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 100_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (err) {
        last = err;
      }
      if (worker.exitCode !== null) throw new Error(`${what}: the worker exited with ${worker.exitCode}\n${output.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`${what}: not in ${timeoutMs} ms (${String(last)})\n${output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  beforeAll(async () => {
    await seedKnownSet();
    const [gaugesPort, sdkPort] = [await freePort(), await freePort()];
    expect(gaugesPort).not.toBe(sdkPort);
    gaugesUrl = `http://127.0.0.1:${gaugesPort}/metrics`;
    sdkUrl = `http://127.0.0.1:${sdkPort}/metrics`;
    worker = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'worker', 'main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        TEMPORAL_ADDRESS: process.env.ECOLOOP_TEST_TEMPORAL_ADDRESS,
        DATABASE_URL: db.url,
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKER_METRICS_HOST: '127.0.0.1',
        WORKER_METRICS_PORT: String(gaugesPort),
        WORKER_TEMPORAL_METRICS_PORT: String(sdkPort),
        LOG_LEVEL: 'warn',
        PG_POOL_MAX: '3',
      },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [worker.stdout!, worker.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) =>
        output.push(
          ...chunk
            .split('\n')
            .filter(Boolean)
            .map((l) => l.slice(0, 300)),
        ),
      );
    }
    exited = new Promise((resolve) => worker.once('exit', (code) => resolve(code)));
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      process.kill(-worker.pid!, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 20_000)))]);
      clearTimeout(timer);
      if (stopped === 'timeout') process.kill(-worker.pid!, 'SIGKILL');
    }
    // The worker created the project's Schedules on this test server, for its own task queue: remove them.
    for await (const s of client.schedule.list()) {
      const handle = client.schedule.getHandle(s.scheduleId);
      const action = (await handle.describe()).action;
      if (action.type === 'startWorkflow' && action.taskQueue === taskQueue) await handle.delete();
    }
  });

  test('when the worker runs, then the Temporal SDK exporter of its Runtime serves temporal_ metrics of its task queue', async () => {
    const families = await eventually('temporal_ metrics of the task queue', async () => {
      const parsed = await scrape(sdkUrl);
      return sample(parsed, 'temporal_worker_task_slots_available', { task_queue: taskQueue, worker_type: 'WorkflowWorker' })
        ? parsed
        : undefined;
    });
    const names = families.map((f) => f.name);
    expect(names.every((n) => n.startsWith('temporal_'))).toBe(true);
    // The worker's pollers and slots, and the calls of its connection to the server, with their latency.
    expect(names).toEqual(
      expect.arrayContaining(['temporal_worker_start_total', 'temporal_num_pollers', 'temporal_request_total', 'temporal_request_latency']),
    );
    expect(
      valueOf(families, 'temporal_worker_task_slots_available', { task_queue: taskQueue, worker_type: 'WorkflowWorker' }),
    ).toBeGreaterThan(0);
    expect(valueOf(families, 'temporal_worker_start_total', { task_queue: taskQueue })).toBe(1);
    expect(families.find((f) => f.name === 'temporal_request_latency')?.type).toBe('HISTOGRAM');
    expect(Number(sample(families, 'temporal_request_latency', { operation: 'GetSystemInfo' })?.count)).toBeGreaterThan(0);
  });

  test('when a known set of cases and outbox messages is in PostgreSQL, then the EcoLoop gauges equal their counts', async () => {
    const families = await eventually('the EcoLoop gauges', async () => {
      const parsed = await scrape(gaugesUrl);
      return valueOf(parsed, 'ecoloop_metrics_database_up') === 1 ? parsed : undefined;
    });
    const byLabel = (name: string, label: string) =>
      Object.fromEntries((families.find((f) => f.name === name)?.metrics ?? []).map((m) => [m.labels![label], Number(m.value)]));
    expect(byLabel('ecoloop_open_cases', 'status')).toEqual({
      registered: 0,
      awaiting_supplement: 0,
      pending_acceptance: 2,
      handling: 3,
      under_review: 0,
      callback: 1,
      review_requested: 0,
    });
    expect(byLabel('ecoloop_overdue_cases', 'escalation_level')).toEqual({ 0: 1, 1: 1, 2: 2, 3: 0 });
    expect(valueOf(families, 'ecoloop_outbox_backlog')).toBe(2);
    const age = valueOf(families, 'ecoloop_outbox_oldest_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(3_600);
    expect(age).toBeLessThan(3_600 + 300);
    for (const f of families.filter((x) => x.name.startsWith('ecoloop_'))) expect(f.type).toBe('GAUGE');
  });

  test('when a case moves on, then the next scrape counts it anew (the gauges are read at each scrape)', async () => {
    await db.pool.query(`UPDATE cases SET status = 'closed', closed_at = now() WHERE case_id = $1`, [caseIds.handlingLevel2]);
    await db.pool.query(`UPDATE outbox SET delivered_at = now() WHERE idempotency_key = 'metrics-test-0'`);
    const families = await scrape(gaugesUrl);
    expect(valueOf(families, 'ecoloop_open_cases', { status: 'handling' })).toBe(2);
    expect(valueOf(families, 'ecoloop_overdue_cases', { escalation_level: '2' })).toBe(1);
    expect(valueOf(families, 'ecoloop_outbox_backlog')).toBe(1);
    expect(valueOf(families, 'ecoloop_outbox_oldest_age_seconds')).toBeLessThan(600);
  });
});

describe('the worker gauges while PostgreSQL does not answer', () => {
  test('when the database cannot be read, then the scrape still answers: database_up 0 and no case or outbox gauge at all', async () => {
    const unreachable = createPool('postgres://nobody:nothing@127.0.0.1:1/none', { connectionTimeoutMillis: 500 });
    try {
      const families = parseExposition(await workerMetrics(unreachable, createLogger('silent', 'metrics-test')).scrape());
      expect(valueOf(families, 'ecoloop_metrics_database_up')).toBe(0);
      expect(families.map((f) => f.name).filter((n) => n.startsWith('ecoloop_'))).toEqual(['ecoloop_metrics_database_up']);
      expect(valueOf(families, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      await unreachable.end();
    }
  });
});
